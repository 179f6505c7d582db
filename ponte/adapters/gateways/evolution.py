"""Evolution API v2 client: ``apikey`` header (the global key or the instance token)."""

from __future__ import annotations

import base64
import contextlib
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
from ponte.domain.timestamps import utc_from_timestamp
from ponte.ports.gateway import (
    Gateway,
    GatewayAmbiguousError,
    GatewayError,
    GatewayNotLoggedError,
    GatewayRejectedError,
    GatewayUnsupportedError,
)

_STATES = {
    "open": SessionStatus.CONNECTED,
    "connecting": SessionStatus.CONNECTING,
    "close": SessionStatus.DISCONNECTED,
    "refused": SessionStatus.NOT_LOGGED,
}
# What Evolution says when the Baileys socket is not logged in (it answers 400 / 500 with these).
_NOT_LOGGED_HINTS = ("connection closed", "not connected", "connection terminated", "disconnected", "logged out")


def _message_text(body: Any) -> str:
    """Evolution errors: ``{"status": 400, "error": "...", "response": {"message": [...]}}``."""
    if not isinstance(body, dict):
        return ""
    response = body.get("response")
    message = response.get("message") if isinstance(response, dict) else body.get("message")
    parts = message if isinstance(message, list) else [message, body.get("error")]
    return " ".join(str(p) for p in parts if p).lower()


def classify(response: httpx.Response) -> GatewayError | None:
    if response.status_code < 400 or response.status_code in (401, 403):
        return None
    text = _message_text(json_body(response))
    if any(hint in text for hint in _NOT_LOGGED_HINTS):
        return GatewayNotLoggedError("the WhatsApp session is not logged in", status_code=response.status_code)
    if response.status_code == 404 and "instance" in text:
        return GatewayNotLoggedError("the gateway has no such instance", status_code=404)
    if response.status_code == 400 and ("exists" in text or "not on whatsapp" in text):
        return GatewayRejectedError("the number is not on WhatsApp", status_code=400)
    return None


def _session(body: Any) -> SessionInfo:
    body = body if isinstance(body, dict) else {}
    qrcode = body.get("qrcode") if isinstance(body.get("qrcode"), dict) else body
    code, image, pairing = qrcode.get("code"), qrcode.get("base64"), qrcode.get("pairingCode")
    if any(isinstance(v, str) and v for v in (code, image, pairing)):
        return SessionInfo(
            status=SessionStatus.QR_PENDING,
            provider_state="qrcode",
            qr_code=code if isinstance(code, str) and code else None,
            qr_image=image if isinstance(image, str) and image else None,
            pairing_code=pairing if isinstance(pairing, str) and pairing else None,
        )
    instance = body.get("instance") if isinstance(body.get("instance"), dict) else body
    state = instance.get("state") or instance.get("status")
    if isinstance(state, str):
        return SessionInfo(status=_STATES.get(state.lower(), SessionStatus.UNKNOWN), provider_state=state[:40])
    return SessionInfo(status=SessionStatus.UNKNOWN)


# what a sendText answer says of the message (Baileys' WAMessageStatus names)
_SEND_STATUS = {
    "PENDING": AckStatus.PENDING,
    "SERVER_ACK": AckStatus.SENT,
    "DELIVERY_ACK": AckStatus.DELIVERED,
    "READ": AckStatus.READ,
}


class EvolutionGateway(Gateway):
    def __init__(self, http: GatewayHttp, *, instance: str, api_key: str) -> None:
        self._http = http
        self._instance = instance
        self._headers = {"apikey": api_key}

    def _call(self, method: str, template: str, operation: str, *, idempotent: bool, **kw: Any) -> Any:
        response = self._http.call(
            method,
            template,
            {"instance": self._instance},
            operation=operation,
            idempotent=idempotent,
            headers=self._headers,
            **kw,
        )
        return json_body(response)

    def send_text(self, to: str, text: str) -> SentMessage:
        body = self._call(
            "POST", "/message/sendText/{instance}", "send_text", idempotent=False, json={"number": to, "text": text}
        )
        return _sent(body)

    def send_content(self, to: str, content: OutboundContent, media: MediaUpload | None = None) -> SentMessage:
        """Media (sendMedia; a voice note with sendWhatsAppAudio), a location, a contact card. Baileys'
        buttons and lists do not reach most phones and there are no templates: those are unsupported."""
        route, payload = _content_request(to, content, media)
        return _sent(self._call("POST", route, f"send_{content.kind.value}", idempotent=False, json=payload))

    def fetch_media(self, ref: MediaRef, max_bytes: int) -> FetchedMedia:
        """``getBase64FromMediaMessage``: Evolution downloads and decrypts the file by the message's key."""
        key = {"id": ref.provider_message_id, "fromMe": ref.from_me}
        if ref.remote_jid:
            key["remoteJid"] = ref.remote_jid
        body = self._call(
            "POST",
            "/chat/getBase64FromMediaMessage/{instance}",
            "fetch_media",
            idempotent=True,
            json={"message": {"key": key}, "convertToMp4": False},
        )
        body = body if isinstance(body, dict) else {}
        return base64_media(body.get("base64"), body.get("mimetype"), max_bytes)

        message_id = key.get("id") if isinstance(key, dict) else None
        if not isinstance(message_id, str) or not message_id:
            # accepted (2xx) but no id: it may have been sent, so it is not a plain failure
            raise GatewayAmbiguousError("the gateway accepted the send without a message id")

    def status(self) -> SessionInfo:
        try:
            return _session(self._call("GET", "/instance/connectionState/{instance}", "status", idempotent=True))
        except GatewayNotLoggedError as exc:
            return SessionInfo(status=SessionStatus.NOT_LOGGED, provider_state=exc.code)

    def start(self) -> SessionInfo:
        return _session(self._call("GET", "/instance/connect/{instance}", "start", idempotent=True))

    def restart(self) -> SessionInfo:
        return _session(self._call("POST", "/instance/restart/{instance}", "restart", idempotent=True))

    def logout(self) -> None:
        with contextlib.suppress(GatewayNotLoggedError):  # already logged out: what a logout wants
            self._call("DELETE", "/instance/logout/{instance}", "logout", idempotent=True)

    def qr(self) -> SessionInfo:
        return self.start()

    def recent_messages(self, to: str, limit: int = 20) -> list[GatewayMessage]:
        jid = to if "@" in to else f"{to.lstrip('+')}@s.whatsapp.net"
        body = self._call(
            "POST",
            "/chat/findMessages/{instance}",
            "recent_messages",
            idempotent=True,
            json={"where": {"key": {"remoteJid": jid}}, "limit": limit},
        )
        records: Any = body
        if isinstance(body, dict):  # v2: {"messages": {"total", "pages", "records": [...]}}
            messages = body.get("messages")
            records = messages.get("records") if isinstance(messages, dict) else messages
        found = [m for m in (_gateway_message(r) for r in records or [] if isinstance(r, dict)) if m]
        return sorted(found, key=lambda m: m.timestamp or 0, reverse=True)[:limit]


def _sent(body: Any) -> SentMessage:
    key = body.get("key") if isinstance(body, dict) else None
    message_id = key.get("id") if isinstance(key, dict) else None
    if not isinstance(message_id, str) or not message_id:
        # accepted (2xx) but no id: it may have been sent, so it is not a plain failure
        raise GatewayAmbiguousError("the gateway accepted the send without a message id")
    jid = key.get("remoteJid") if isinstance(key, dict) else None
    status = _SEND_STATUS.get(body.get("status")) if isinstance(body.get("status"), str) else None
    return SentMessage(provider_message_id=message_id, chat_jid=jid if isinstance(jid, str) else None, status=status)


def _content_request(to: str, content: OutboundContent, media: MediaUpload | None) -> tuple[str, dict[str, Any]]:
    kind = content.kind
    if kind in MEDIA_KINDS and content.media is not None and media is not None:
        encoded = base64.b64encode(media.data).decode()
        if kind is OutboundKind.AUDIO:
            return "/message/sendWhatsAppAudio/{instance}", {"number": to, "audio": encoded}
        payload = {
            "number": to,
            "mediatype": kind.value,
            "mimetype": media.content_type,
            "media": encoded,
            "caption": content.media.caption or "",
            "fileName": content.media.filename or media.filename or "",
        }
        return "/message/sendMedia/{instance}", payload  # fmt: skip
    if kind is OutboundKind.LOCATION and content.location is not None:
        place = content.location
        location = {"number": to, "name": place.name or "", "address": place.address or "",
                    "latitude": place.latitude, "longitude": place.longitude}  # fmt: skip
        return "/message/sendLocation/{instance}", location
    if kind is OutboundKind.CONTACT and content.contact is not None:
        digits = "".join(ch for ch in content.contact.phones[0] if ch.isdigit())
        card = {"fullName": content.contact.name, "wuid": digits, "phoneNumber": content.contact.phones[0]}
        return "/message/sendContact/{instance}", {"number": to, "contact": [card]}
    raise GatewayUnsupportedError(f"Evolution API does not send {kind.value} messages")


def _gateway_message(record: dict[str, Any]) -> GatewayMessage | None:
    key: dict[str, Any] = record["key"] if isinstance(record.get("key"), dict) else {}
    message_id = key.get("id")
    if not isinstance(message_id, str):
        return None
    message: dict[str, Any] = record["message"] if isinstance(record.get("message"), dict) else {}
    extended: dict[str, Any] = message.get("extendedTextMessage") or {}
    if not isinstance(extended, dict):
        extended = {}
    text = message.get("conversation") or extended.get("text")
    when = utc_from_timestamp(record.get("messageTimestamp"))
    return GatewayMessage(
        provider_message_id=message_id,
        from_me=key.get("fromMe") is True,
        text=text if isinstance(text, str) else None,
        timestamp=when.timestamp() if when else None,
    )
