"""The gateway port: one WhatsApp session on a WPPConnect Server or an Evolution API.

Errors say what a caller may do next. For a send the difference that matters is
whether the gateway may have accepted the message: :class:`GatewayAmbiguousError`
(timeout, 5xx after the request went out) must never be retried blindly.
"""

from __future__ import annotations

from abc import ABC, abstractmethod

from pydantic import BaseModel, ConfigDict

from ponte.domain.events import Provider
from ponte.domain.gateway import (
    FetchedMedia,
    GatewayMessage,
    MediaRef,
    MediaUpload,
    MessageTemplate,
    SentMessage,
    SessionInfo,
)
from ponte.domain.outbound import OutboundContent, OutboundKind


class GatewayTarget(BaseModel):
    """An instance as the gateway clients need it (no credentials: those are in the secret store)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    instance_id: str
    tenant_id: str
    provider: Provider
    gateway_instance: str  # WPPConnect session name / Evolution instance name
    base_url: str | None
    credentials_secret_name: str | None


class GatewayError(Exception):
    """Base of gateway errors; ``code`` is the machine code shown to callers and diagnostics."""

    code = "gateway_error"

    def __init__(self, message: str = "", *, status_code: int | None = None) -> None:
        super().__init__(message or self.code)
        self.message = message or self.code
        self.status_code = status_code


class GatewayNotConfiguredError(GatewayError):
    code = "gateway_not_configured"


class GatewayUnavailableError(GatewayError):
    """The request never reached the gateway (connection refused, DNS): nothing was sent."""

    code = "gateway_unavailable"


class GatewayAmbiguousError(GatewayError):
    """Timeout or 5xx after the request was sent: the gateway may or may not have acted."""

    code = "gateway_timeout"


class GatewayAuthError(GatewayError):
    code = "gateway_auth_failed"


class GatewayNotLoggedError(GatewayError):
    """The WhatsApp session is not logged in (NOTLOGGED / closed): nothing was sent."""

    code = "session_not_logged"


class GatewayRejectedError(GatewayError):
    """A definite 4xx: the gateway refused the request (unknown number, bad input)."""

    code = "gateway_rejected"


class GatewayUnsupportedError(GatewayError):
    """The provider cannot send this kind of message (nothing was sent)."""

    code = "unsupported_by_provider"


class Gateway(ABC):
    """One session on one gateway, with one set of credentials."""

    @abstractmethod
    def send_text(self, to: str, text: str) -> SentMessage:
        """Send once (never retried here). ``to``: E.164 digits or a JID."""

    def send_content(self, to: str, content: OutboundContent, media: MediaUpload | None = None) -> SentMessage:
        """Send a template, media, location, contact card or interactive message once; ``media``: the
        uploaded file of a media send. Providers override what they support."""
        if content.kind is OutboundKind.TEXT and content.text:
            return self.send_text(to, content.text)
        raise GatewayUnsupportedError(f"this provider does not send {content.kind.value} messages")

    def fetch_media(self, ref: MediaRef, max_bytes: int) -> FetchedMedia:
        """A received file's bytes, at most ``max_bytes`` + 1 (more says "too large")."""
        raise GatewayUnsupportedError("this provider cannot fetch media")

    def templates(self) -> list[MessageTemplate]:
        """The account's message templates (Cloud API only)."""
        raise GatewayUnsupportedError("this provider has no message templates")

    @abstractmethod
    def status(self) -> SessionInfo: ...

    @abstractmethod
    def start(self) -> SessionInfo:
        """Start (or connect) the session; the answer carries the QR / pairing code when one is needed."""

    @abstractmethod
    def restart(self) -> SessionInfo: ...

    @abstractmethod
    def logout(self) -> None:
        """Log out and clear the gateway's session data."""

    @abstractmethod
    def qr(self) -> SessionInfo: ...

    @abstractmethod
    def recent_messages(self, to: str, limit: int = 20) -> list[GatewayMessage]:
        """The latest messages of the chat with ``to``, newest first."""


class GatewayFactory(ABC):
    @abstractmethod
    def for_instance(self, target: GatewayTarget, *, alternate: bool = False) -> Gateway:
        """The client of ``target``; ``alternate`` uses the instance's alternate credentials."""

    @abstractmethod
    def has_alternate(self, target: GatewayTarget) -> bool: ...
