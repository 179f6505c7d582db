"""Payloads that failed normalization, kept (size-capped) to be replayed after a fix."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict

from ponte.domain.text import clean_text

MAX_QUARANTINE_BYTES = 64 * 1024


class QuarantineEntry(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    tenant_id: str
    instance_id: str | None
    provider: str
    reason_code: str
    detail: str | None = None
    event: str | None = None
    raw_payload: str
    payload_bytes: int
    truncated: bool = False

    @classmethod
    def capped(cls, body: bytes, *, limit: int = MAX_QUARANTINE_BYTES, **fields: object) -> QuarantineEntry:
        """The entry for ``body``, cut at ``limit`` bytes (a truncated payload cannot be replayed)."""
        text = clean_text(body[:limit].decode("utf-8", errors="replace"))
        cleaned = {k: clean_text(v, 500) if isinstance(v, str) else v for k, v in fields.items()}
        return cls(raw_payload=text, payload_bytes=len(body), truncated=len(body) > limit, **cleaned)  # type: ignore[arg-type]


class QuarantinedPayload(BaseModel):
    """A stored entry, as the replay reads it."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    id: int
    tenant_id: str
    instance_id: str | None
    provider: str
    reason_code: str
    raw_payload: str
    truncated: bool
    received_at: datetime
