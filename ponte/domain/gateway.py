"""What Ponte knows about a gateway session and the calls it makes through it (no I/O)."""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict

from ponte.domain.events import AckStatus


class SessionStatus(StrEnum):
    """One vocabulary for both providers' session states (stored in ``whatsapp_instances.status``)."""

    CONNECTED = "connected"
    CONNECTING = "connecting"
    QR_PENDING = "qr_pending"  # waiting for a QR scan or a pairing code
    NOT_LOGGED = "not_logged"  # the gateway has no logged-in WhatsApp session
    DISCONNECTED = "disconnected"  # closed (browser/socket closed, phone disconnected)
    UNKNOWN = "unknown"

    @property
    def is_down(self) -> bool:
        return self in {SessionStatus.NOT_LOGGED, SessionStatus.DISCONNECTED}


class SessionInfo(BaseModel):
    """A session as the gateway reported it; ``qr_*`` / ``pairing_code`` only while one is pending."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    status: SessionStatus
    provider_state: str | None = None
    qr_code: str | None = None  # the raw QR string a UI renders
    qr_image: str | None = None  # a data: URL PNG when the gateway gives one
    pairing_code: str | None = None

    @property
    def has_code(self) -> bool:
        return bool(self.qr_code or self.qr_image or self.pairing_code)


class SentMessage(BaseModel):
    """What a gateway answers to an accepted send: the WhatsApp message id and the chat it went to."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    provider_message_id: str
    chat_jid: str | None = None
    # the message's ack as the gateway answered it (usually pending: WhatsApp's server has not
    # acknowledged it yet); the acks that follow arrive as webhooks
    status: AckStatus | None = None


class GatewayMessage(BaseModel):
    """A message the gateway lists for a chat (used to confirm a send whose answer was lost)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    provider_message_id: str
    from_me: bool
    text: str | None = None
    timestamp: float | None = None  # unix seconds


def mask_phone(value: str | None) -> str | None:
    """``+5511987654321`` -> ``+55119****4321``: enough for an admin to tell numbers apart, no more."""
    if not value:
        return value
    digits = [i for i, ch in enumerate(value) if ch.isdigit()]
    if len(digits) <= 4:
        return "*" * len(value)
    keep_head = 5 if len(digits) > 10 else 2
    hidden = set(digits[keep_head:-4])
    return "".join("*" if i in hidden else ch for i, ch in enumerate(value))


class MessageTemplate(BaseModel):
    """An approved (or pending) message template of a Cloud API account, as Meta lists it."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str
    language: str
    status: str  # APPROVED, PENDING, REJECTED, PAUSED, DISABLED...
    category: str | None = None
    # the template's components as Meta describes them (header, body text with {{n}}, buttons)
    components: tuple[dict[str, Any], ...] = ()


class MediaUpload(BaseModel):
    """A file to send: its bytes (read from the media bucket), what they are and their name."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    data: bytes
    content_type: str
    filename: str | None = None


class MediaRef(BaseModel):
    """Which received file to fetch: the message as the gateway knows it, and the provider's own
    reference (Cloud API: the media id)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    provider_message_id: str
    remote_jid: str | None = None  # the chat as a JID (Evolution looks the message up by key)
    from_me: bool = False
    provider_ref: str | None = None


class FetchedMedia(BaseModel):
    """A file as the gateway gave it: the bytes (at most the cap + 1), and the type it claimed."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    data: bytes
    declared_type: str | None = None
    too_large: bool = False  # the gateway said how big it is, over the cap: nothing was downloaded
