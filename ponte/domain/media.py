"""Media files: what is fetched, how big it may be, where it is kept (no I/O).

A media message is stored as metadata first; a queue-driven job then fetches the file from the
gateway, caps its size per kind, sniffs its type from the bytes and keeps it in the media bucket.
Its state moves ``pending -> stored | too_large | failed``; the frontend reads a stored file
through a short-lived signed URL.
"""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel, ConfigDict

from ponte.domain.events import MessageKind

MB = 1024 * 1024


class MediaState(StrEnum):
    PENDING = "pending"
    STORED = "stored"
    TOO_LARGE = "too_large"
    FAILED = "failed"


# Meta's own limits per kind (the unofficial gateways carry the same WhatsApp files).
MAX_BYTES: dict[MessageKind, int] = {
    MessageKind.IMAGE: 5 * MB,
    MessageKind.STICKER: 1 * MB,
    MessageKind.AUDIO: 16 * MB,
    MessageKind.VOICE: 16 * MB,
    MessageKind.VIDEO: 16 * MB,
    MessageKind.DOCUMENT: 100 * MB,
}
FETCHED_KINDS = frozenset(MAX_BYTES)
# What a frontend may be handed as a file's type when the bytes do not say (plain text, CSV);
# anything else unrecognised is served as an opaque download, never as something a browser runs.
TEXT_TYPES = frozenset({"text/plain", "text/csv"})
OPAQUE = "application/octet-stream"
SIGNED_URL_SECONDS = 300


class MediaJob(BaseModel):
    """One message whose file is to be fetched (the media queue's message body)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    tenant_id: str
    message_id: str
    attempt: int = 0


def object_key(tenant_id: str, message_id: str) -> str:
    """Where a received file is kept: under its tenant, named by its message."""
    return f"media/{tenant_id}/{message_id}"


def upload_key(tenant_id: str, upload_id: str) -> str:
    """Where a file an agent uploads (to send it) lands through its signed upload URL."""
    return f"uploads/{tenant_id}/{upload_id}"


def served_type(sniffed: str | None, declared: str | None) -> str:
    """The type a file is served with: what its bytes say; a declared plain text; else opaque."""
    if sniffed:
        return sniffed
    declared = (declared or "").split(";", 1)[0].strip().lower()
    return declared if declared in TEXT_TYPES else OPAQUE
