"""The Cloud API through Meta's Graph API: ``POST /{phone_number_id}/messages`` with the instance's
access token (a bearer token), media by id, and the account's message templates.

Meta's errors are ``{"error": {"code", "message", "error_subcode", "error_data": {...}}}``; the
code decides (``ponte.domain.meta_errors``), never the translated message.
"""

from __future__ import annotations

from typing import Any

import httpx

from ponte.adapters.gateways.base import GatewayHttp, json_body
from ponte.domain.events import AckStatus
from ponte.domain.gateway import (
    FetchedMedia,
    GatewayMessage,
    MediaRef,
    MediaUpload,
    MessageTemplate,
    SentMessage,
    SessionInfo,
    SessionStatus,
)
from ponte.domain.meta_errors import MetaErrorKind, meta_error
from ponte.domain.outbound import MEDIA_KINDS, OutboundContent, OutboundKind
from ponte.ports.gateway import (
    Gateway,
    GatewayAmbiguousError,
    GatewayAuthError,
    GatewayError,
    GatewayRejectedError,
    GatewayUnavailableError,
    GatewayUnsupportedError,
)

DEFAULT_GRAPH_URL = "https://graph.facebook.com/v21.0"
BSUID_PREFIX = "bsuid:"
MAX_TEMPLATE_PAGES = 20


def classify(response: httpx.Response) -> GatewayError | None:
    """A Graph API error, by Meta's code; None for a success (or a body that is no Graph error)."""
    if response.status_code < 400:
        return None
    body = json_body(response)
    error = body.get("error") if isinstance(body, dict) else None
    if not isinstance(error, dict):
        return None
    code, kind = meta_error(error.get("code"))
    status = response.status_code
    found: GatewayError
    if kind is MetaErrorKind.AUTH:
        found = GatewayAuthError("Meta refused the access token", status_code=status)
    elif kind is MetaErrorKind.UNAVAILABLE:
        found = GatewayUnavailableError("Meta's service is unavailable", status_code=status)
    elif kind is MetaErrorKind.UNKNOWN and status >= 500:
        found = GatewayAmbiguousError(f"Meta answered {status}", status_code=status)
    else:
        found = GatewayRejectedError("Meta refused the message", status_code=status)
    found.code = code
    return found


def recipient(to: str) -> dict[str, str]:
    """A phone's digits, or the BSUID of a user whose phone Meta withholds."""
    if to.startswith(BSUID_PREFIX):
        return {"recipient": to.rsplit(":", 1)[-1]}
    return {"to": to.lstrip("+").split("@", 1)[0]}


def message_body(to: str, content: OutboundContent, media_id: str | None = None) -> dict[str, Any]:
    """The Graph API request of one outbound message."""
    body: dict[str, Any] = {"messaging_product": "whatsapp", "recipient_type": "individual", **recipient(to)}
    kind = content.kind
    if kind is OutboundKind.TEXT:
        return body | {"type": "text", "text": {"body": content.text or "", "preview_url": False}}
    if kind is OutboundKind.TEMPLATE and content.template is not None:
        template = content.template
        spec: dict[str, Any] = {"name": template.name, "language": {"code": template.language}}
        if template.components:
            spec["components"] = [c.model_dump(exclude_none=True) for c in template.components]
        return body | {"type": "template", "template": spec}
    if kind in MEDIA_KINDS and content.media is not None and media_id is not None:
        media: dict[str, Any] = {"id": media_id}
        if content.media.caption and kind is not OutboundKind.AUDIO:
            media["caption"] = content.media.caption
        if kind is OutboundKind.DOCUMENT and content.media.filename:
            media["filename"] = content.media.filename
        return body | {"type": kind.value, kind.value: media}
    if kind is OutboundKind.LOCATION and content.location is not None:
        return body | {"type": "location", "location": content.location.model_dump(exclude_none=True)}
    if kind is OutboundKind.CONTACT and content.contact is not None:
        card = {"name": {"formatted_name": content.contact.name, "first_name": content.contact.name},
                "phones": [{"phone": p, "type": "CELL"} for p in content.contact.phones]}  # fmt: skip
        return body | {"type": "contacts", "contacts": [card]}
    if kind is OutboundKind.INTERACTIVE and content.interactive is not None:
        return body | {"type": "interactive", "interactive": _interactive(content)}
    raise GatewayUnsupportedError(f"the Cloud API cannot send this {kind.value} message")


def _interactive(content: OutboundContent) -> dict[str, Any]:
    spec = content.interactive
    assert spec is not None
    if spec.buttons:
        buttons = [{"type": "reply", "reply": {"id": b.id, "title": b.title}} for b in spec.buttons]
        return {"type": "button", "body": {"text": spec.body}, "action": {"buttons": buttons}}
    rows = [{"id": r.id, "title": r.title, **({"description": r.description} if r.description else {})}
            for r in spec.rows]  # fmt: skip
    return {
        "type": "list",
        "body": {"text": spec.body},
        "action": {"button": spec.list_button or "Opções", "sections": [{"title": spec.list_button or "Opções",
                                                                          "rows": rows}]},
    }  # fmt: skip


class CloudGateway(Gateway):
    def __init__(self, http: GatewayHttp, *, phone_number_id: str, access_token: str, waba_id: str | None) -> None:
        self._http = http
        self._number = phone_number_id
        self._waba = waba_id
        self._headers = {"Authorization": f"Bearer {access_token}"}

    def _call(self, method: str, template: str, params: dict[str, str], operation: str, **kw: Any) -> Any:
        idempotent = kw.pop("idempotent", False)
        response = self._http.call(
            method, template, params, operation=operation, idempotent=idempotent, headers=self._headers, **kw
        )
        return json_body(response)

    def send_text(self, to: str, text: str) -> SentMessage:
        return self.send_content(to, OutboundContent(kind=OutboundKind.TEXT, text=text))

    def send_content(self, to: str, content: OutboundContent, media: MediaUpload | None = None) -> SentMessage:
        media_id = self._upload(media) if content.kind in MEDIA_KINDS and media is not None else None
        request = message_body(to, content, media_id)
        answer = self._call("POST", "/{number}/messages", {"number": self._number}, f"send_{content.kind.value}",
                            json=request)  # fmt: skip
        messages = answer.get("messages") if isinstance(answer, dict) else None
        first = messages[0] if isinstance(messages, list) and messages and isinstance(messages[0], dict) else {}
        message_id = first.get("id")
        if not isinstance(message_id, str) or not message_id:
            raise GatewayAmbiguousError("Meta accepted the send without a message id")
        contacts = answer.get("contacts") if isinstance(answer, dict) else None
        wa_id = (
            contacts[0].get("wa_id")
            if isinstance(contacts, list) and contacts and isinstance(contacts[0], dict)
            else None
        )
        jid = f"{wa_id}@s.whatsapp.net" if isinstance(wa_id, str) and wa_id.isdigit() else None
        # Meta's "accepted" is not yet "sent": the statuses webhook says when it is
        return SentMessage(provider_message_id=message_id, chat_jid=jid, status=AckStatus.PENDING)

    def _upload(self, media: MediaUpload) -> str:
        """``POST /{phone_number_id}/media`` (multipart): the media id a message then names."""
        response = self._http.call(
            "POST",
            "/{number}/media",
            {"number": self._number},
            operation="upload_media",
            idempotent=False,
            headers=self._headers,
            files={"file": (media.filename or "file", media.data, media.content_type)},
            data={"messaging_product": "whatsapp", "type": media.content_type},
        )
        body = json_body(response)
        media_id = body.get("id") if isinstance(body, dict) else None
        if not isinstance(media_id, str) or not media_id:
            raise GatewayRejectedError("Meta did not return a media id")
        return media_id

    def media_url(self, media_id: str) -> tuple[str, str | None, int | None]:
        """A media id's short-lived download URL, MIME type and size (``GET /{media-id}``)."""
        body = self._call("GET", "/{media}", {"media": media_id}, "media_url", idempotent=True)
        url = body.get("url") if isinstance(body, dict) else None
        if not isinstance(url, str) or not url.startswith(("https://", "http://")):
            raise GatewayRejectedError("Meta gave no URL for the media")
        mime = body.get("mime_type")
        size = body.get("file_size")
        return url, mime if isinstance(mime, str) else None, size if isinstance(size, int) else None

    def download(self, url: str, max_bytes: int) -> bytes:
        """The media's bytes (the URL needs the same token), never more than ``max_bytes`` + 1."""
        return self._http.download(url, headers=self._headers, max_bytes=max_bytes, operation="media_download")

    def fetch_media(self, ref: MediaRef, max_bytes: int) -> FetchedMedia:
        """Media id -> its URL (Graph API) -> its bytes, with the same token."""
        if not ref.provider_ref:
            raise GatewayRejectedError("the message has no media id")
        url, mime, size = self.media_url(ref.provider_ref)
        if size is not None and size > max_bytes:
            return FetchedMedia(data=b"", declared_type=mime, too_large=True)
        data = self.download(url, max_bytes)
        return FetchedMedia(data=data, declared_type=mime, too_large=len(data) > max_bytes)

    def templates(self) -> list[MessageTemplate]:
        if not self._waba:
            raise GatewayUnsupportedError("the instance has no WhatsApp Business Account id (waba_id)")
        found: list[MessageTemplate] = []
        after: str | None = None
        for _ in range(MAX_TEMPLATE_PAGES):
            query: dict[str, str | int] = {"fields": "name,language,status,category,components", "limit": 100}
            if after:
                query["after"] = after
            body = self._call("GET", "/{waba}/message_templates", {"waba": self._waba}, "templates", idempotent=True,
                              query=query)  # fmt: skip
            data = body.get("data") if isinstance(body, dict) else None
            for item in data if isinstance(data, list) else []:
                template = _template(item)
                if template is not None:
                    found.append(template)
            cursors = ((body.get("paging") or {}).get("cursors") or {}) if isinstance(body, dict) else {}
            after = (
                cursors.get("after") if isinstance(cursors, dict) and (body.get("paging") or {}).get("next") else None
            )
            if not after:
                break
        return found

    # -- the session operations: a Cloud API number has no socket, no QR ---------------------------

    def status(self) -> SessionInfo:
        body = self._call("GET", "/{number}", {"number": self._number}, "status", idempotent=True,
                          query={"fields": "quality_rating,status"})  # fmt: skip
        state = body.get("status") if isinstance(body, dict) else None
        return SessionInfo(status=SessionStatus.CONNECTED, provider_state=str(state)[:40] if state else "ok")

    def start(self) -> SessionInfo:
        return self.status()

    def restart(self) -> SessionInfo:
        return self.status()

    def logout(self) -> None:
        """Nothing to log out of: the number stays registered at Meta."""

    def qr(self) -> SessionInfo:
        return self.status()

    def recent_messages(self, to: str, limit: int = 20) -> list[GatewayMessage]:
        """The Graph API lists no messages: an unconfirmed send is confirmed by its status webhook."""
        return []


def _template(item: Any) -> MessageTemplate | None:
    if not isinstance(item, dict):
        return None
    name, language, status = item.get("name"), item.get("language"), item.get("status")
    if not all(isinstance(v, str) and v for v in (name, language, status)):
        return None
    components = item.get("components")
    category = item.get("category")
    return MessageTemplate(
        name=str(name)[:512],
        language=str(language)[:20],
        status=str(status)[:40],
        category=category[:40] if isinstance(category, str) else None,
        components=tuple(c for c in components[:10] if isinstance(c, dict)) if isinstance(components, list) else (),
    )
