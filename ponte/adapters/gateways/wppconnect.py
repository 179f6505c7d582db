"""WPPConnect Server client: a per-session bearer token derived from the server's secret key.

``POST /api/{session}/{secretkey}/generate-token`` gives the token (bcrypt of session +
secret key); it is cached per (server, session, key) for the life of the process and
generated again once when the server answers 401.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import threading
from typing import Any

import httpx

from ponte.adapters.gateways.base import GatewayHttp, base64_media, json_body
from ponte.domain.events import AckStatus
from ponte.domain.gateway import (
    FetchedMedia,
    GatewayMessage,
    MediaRef,
    MediaUpload,
    SentMessage,
    SessionInfo,
    SessionStatus,
)
from ponte.domain.outbound import MEDIA_KINDS, OutboundContent, OutboundKind
from ponte.ports.gateway import (
    Gateway,
    GatewayAmbiguousError,
    GatewayAuthError,
    GatewayError,
    GatewayNotLoggedError,
    GatewayRejectedError,
    GatewayUnsupportedError,
)

# status-session answers CLOSED / INITIALIZING / QRCODE / PHONECODE / CONNECTED, or the
# StatusFind value the session last reported (client.status).
_STATES = {
    "connected": SessionStatus.CONNECTED,
    "islogged": SessionStatus.CONNECTED,
    "inchat": SessionStatus.CONNECTED,
    "initializing": SessionStatus.CONNECTING,
    "qrreadsuccess": SessionStatus.CONNECTING,
    "phonenotconnected": SessionStatus.CONNECTING,
    "qrcode": SessionStatus.QR_PENDING,
    "phonecode": SessionStatus.QR_PENDING,
    "notlogged": SessionStatus.NOT_LOGGED,
    "closed": SessionStatus.DISCONNECTED,
    "disconnectedmobile": SessionStatus.DISCONNECTED,
    "desconnectedmobile": SessionStatus.DISCONNECTED,
    "browserclose": SessionStatus.DISCONNECTED,
    "serverclose": SessionStatus.DISCONNECTED,
    "autoclosecalled": SessionStatus.DISCONNECTED,
    "qrreadfail": SessionStatus.DISCONNECTED,
    "qrreaderror": SessionStatus.DISCONNECTED,
}

_tokens: dict[tuple[str, str, str], str] = {}
_tokens_lock = threading.Lock()


def classify(response: httpx.Response) -> GatewayError | None:
    body = json_body(response)
    if not isinstance(body, dict):
        return None
    status = str(body.get("status") or "").lower()
    if response.status_code == 404 and status == "disconnected":
        return GatewayNotLoggedError("the WhatsApp session is not active", status_code=404)
    if response.status_code == 400 and "não existe" in str(body.get("message") or ""):
        return GatewayRejectedError("the number is not on WhatsApp", status_code=400)
    return None


def whatsapp_id(serialized: Any) -> str | None:
    """``true_5511...@c.us_3EB0...`` (or ``{"_serialized": ...}``) -> ``3EB0...``, the id webhooks carry."""
    if isinstance(serialized, dict):
        if isinstance(serialized.get("id"), str) and serialized["id"] and "_" not in serialized["id"]:
            return str(serialized["id"])
        serialized = serialized.get("_serialized")
    if not isinstance(serialized, str) or not serialized:
        return None
    parts = serialized.split("_")
    if len(parts) >= 3 and parts[0] in ("true", "false"):
        return parts[2]
    return serialized


def _session(body: Any) -> SessionInfo:
    body = body if isinstance(body, dict) else {}
    raw = body.get("status")
    if not isinstance(raw, str) or not raw:
        return SessionInfo(status=SessionStatus.UNKNOWN)
    status = _STATES.get(raw.lower(), SessionStatus.UNKNOWN)
    code, image = body.get("urlcode"), body.get("qrcode")
    if status is SessionStatus.QR_PENDING or (code and status is SessionStatus.UNKNOWN):
        return SessionInfo(
            status=SessionStatus.QR_PENDING,
            provider_state=raw[:40],
            qr_code=code if isinstance(code, str) and code else None,
            qr_image=image if isinstance(image, str) and image else None,
            pairing_code=body.get("phoneCode") if isinstance(body.get("phoneCode"), str) else None,
        )
    return SessionInfo(status=status, provider_state=raw[:40])


# what a send-message answer says of the message (AckType: 0 CLOCK, 1 SENT, 2 RECEIVED, 3 READ)
_SEND_ACK = {0: AckStatus.PENDING, 1: AckStatus.SENT, 2: AckStatus.DELIVERED, 3: AckStatus.READ}


class WppConnectGateway(Gateway):
    def __init__(
        self, http: GatewayHttp, *, base_url: str, session: str, secret_key: str, webhook_url: str | None = None
    ) -> None:
        self._http = http
        self._session = session
        self._secret_key = secret_key
        self._webhook_url = webhook_url
        self._cache_key = (base_url, session, hashlib.sha256(secret_key.encode()).hexdigest())

    # --- token -------------------------------------------------------------------------------

    def _token(self, *, fresh: bool = False) -> str:
        with _tokens_lock:
            cached = None if fresh else _tokens.get(self._cache_key)
        if cached:
            return cached
        try:
            response = self._http.call(
                "POST",
                "/api/{session}/{secretkey}/generate-token",
                {"session": self._session, "secretkey": self._secret_key},
                operation="generate_token",
                idempotent=True,
            )
        except GatewayRejectedError as exc:  # the server answers 400 to a wrong SECRET_KEY
            raise GatewayAuthError("the gateway refused the secret key", status_code=exc.status_code) from exc
        body = json_body(response)
        token = body.get("token") if isinstance(body, dict) else None
        if not isinstance(token, str) or not token:
            raise GatewayAuthError("the gateway did not issue a token")
        with _tokens_lock:
            _tokens[self._cache_key] = token
        return token

    def _call(self, method: str, template: str, operation: str, *, idempotent: bool, **kw: Any) -> Any:
        params = {"session": self._session, **kw.pop("params", {})}
        for fresh in (False, True):
            headers = {"Authorization": f"Bearer {self._token(fresh=fresh)}"}
            try:
                response = self._http.call(
                    method, template, params, operation=operation, idempotent=idempotent, headers=headers, **kw
                )
            except GatewayAuthError:
                if fresh:
                    raise
                continue  # the token was revoked (server secret rotated, restart): one new token
            return json_body(response)
        raise AssertionError("unreachable")

    # --- operations ----------------------------------------------------------------------------

    def send_text(self, to: str, text: str) -> SentMessage:
        is_lid = to.endswith("@lid")
        phone = to if is_lid else to.split("@", maxsplit=1)[0].lstrip("+")
        body = self._call(
            "POST",
            "/api/{session}/send-message",
            "send_text",
            idempotent=False,
            json={"phone": phone, "isGroup": False, "isNewsletter": False, "isLid": is_lid, "message": text},
        )
        return _sent(body)

    def send_content(self, to: str, content: OutboundContent, media: MediaUpload | None = None) -> SentMessage:
        """Media as base64 (send-image, send-file-base64, send-voice-base64), a location, a contact card;
        WPPConnect has no templates and no reliable buttons: those are unsupported."""
        phone = to.split("@", maxsplit=1)[0].lstrip("+")
        route, payload = _content_request(phone, content, media)
        return _sent(self._call("POST", route, f"send_{content.kind.value}", idempotent=False, json=payload))

    def fetch_media(self, ref: MediaRef, max_bytes: int) -> FetchedMedia:
        body = self._call(
            "GET",
            "/api/{session}/get-media-by-message/{message}",
            "fetch_media",
            idempotent=True,
            # the serialized id (false_<chat>_<id>) the webhook gave, else the bare one
            params={"message": _serialized(ref)},
        )
        body = body if isinstance(body, dict) else {}
        return base64_media(body.get("base64"), body.get("mimetype"), max_bytes)

    def status(self) -> SessionInfo:
        return _session(self._call("GET", "/api/{session}/status-session", "status", idempotent=True))

    def start(self) -> SessionInfo:
        payload: dict[str, Any] = {"waitQrCode": True}
        if self._webhook_url:
            payload["webhook"] = self._webhook_url
        return _session(self._call("POST", "/api/{session}/start-session", "start", idempotent=True, json=payload))

    def restart(self) -> SessionInfo:
        with contextlib.suppress(GatewayError):  # a session that is already closed can still be started
            self._call("POST", "/api/{session}/close-session", "close", idempotent=True)
        return self.start()

    def logout(self) -> None:
        # a session that is not logged in has nothing to log out; start-session follows
        with contextlib.suppress(GatewayNotLoggedError, GatewayAmbiguousError):
            self._call("POST", "/api/{session}/logout-session", "logout", idempotent=True)

    def qr(self) -> SessionInfo:
        return self.status()

    def recent_messages(self, to: str, limit: int = 20) -> list[GatewayMessage]:
        phone = to.split("@", maxsplit=1)[0].lstrip("+")
        body = self._call(
            "GET",
            "/api/{session}/get-messages/{phone}",
            "recent_messages",
            idempotent=True,
            params={"phone": phone},
            query={"count": limit},
        )
        response = body.get("response") if isinstance(body, dict) else None
        found = []
        for item in response if isinstance(response, list) else []:
            message_id = whatsapp_id(item.get("id")) if isinstance(item, dict) else None
            if message_id is None:
                continue
            when = item.get("t") or item.get("timestamp")
            found.append(
                GatewayMessage(
                    provider_message_id=message_id,
                    from_me=item.get("fromMe") is True,
                    text=item.get("body") if isinstance(item.get("body"), str) else None,
                    timestamp=float(when) if isinstance(when, int | float) else None,
                )
            )
        return sorted(found, key=lambda m: m.timestamp or 0, reverse=True)[:limit]


def _sent(body: Any) -> SentMessage:
    """A send's answer: ``{status, response: [message]}`` (or the message itself)."""
    response = body.get("response") if isinstance(body, dict) else None
    first = response[0] if isinstance(response, list) and response else response
    message_id = whatsapp_id(first.get("id")) if isinstance(first, dict) else None
    if message_id is None:
        raise GatewayAmbiguousError("the gateway accepted the send without a message id")
    to_jid = first.get("to") if isinstance(first, dict) else None
    ack = first.get("ack") if isinstance(first, dict) else None
    return SentMessage(
        provider_message_id=message_id,
        chat_jid=to_jid if isinstance(to_jid, str) else None,
        status=_SEND_ACK.get(ack) if isinstance(ack, int) else None,
    )


def _content_request(phone: str, content: OutboundContent, media: MediaUpload | None) -> tuple[str, dict[str, Any]]:
    kind = content.kind
    if kind in MEDIA_KINDS and content.media is not None and media is not None:
        data_url = f"data:{media.content_type};base64,{base64.b64encode(media.data).decode()}"
        if kind is OutboundKind.AUDIO:
            return "/api/{session}/send-voice-base64", {"phone": phone, "isGroup": False, "base64Ptt": data_url}
        route = "/api/{session}/send-image" if kind is OutboundKind.IMAGE else "/api/{session}/send-file-base64"
        name = content.media.filename or media.filename or "arquivo"
        return route, {"phone": phone, "isGroup": False, "base64": data_url, "filename": name,
                       "caption": content.media.caption or ""}  # fmt: skip
    if kind is OutboundKind.LOCATION and content.location is not None:
        place = content.location
        return "/api/{session}/send-location", {"phone": phone, "isGroup": False, "lat": str(place.latitude),
                                                "lng": str(place.longitude), "title": place.name or "",
                                                "address": place.address or ""}  # fmt: skip
    if kind is OutboundKind.CONTACT and content.contact is not None:
        digits = "".join(ch for ch in content.contact.phones[0] if ch.isdigit())
        return "/api/{session}/contact-vcard", {"phone": phone, "isGroup": False, "contactsId": f"{digits}@c.us",
                                                "name": content.contact.name}  # fmt: skip
    raise GatewayUnsupportedError(f"WPPConnect does not send {kind.value} messages")


def _serialized(ref: MediaRef) -> str:
    ref_id = ref.provider_ref
    if ref_id and not ref_id.startswith(("http://", "https://")) and "_" in ref_id:
        return ref_id
    return ref.provider_message_id
