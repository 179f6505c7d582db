"""What travels on the ingest queue: canonical events and the tenant they belong to.

One queue message carries the envelopes of one webhook as a JSON array (packed up to a size),
so that a body with 3,000 messages is a few dozen queue messages and a few SendMessageBatch
calls, not 3,000 sends. A message that is a single JSON object (the earlier form) still reads.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from pydantic import BaseModel, ConfigDict, TypeAdapter

from ponte.domain.events import CanonicalEvent


class IngestEnvelope(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    version: int = 1
    tenant_id: str
    instance_id: str
    received_at: datetime
    event: CanonicalEvent


_ENVELOPES = TypeAdapter(list[IngestEnvelope])


def decode_envelopes(body: str | bytes) -> list[IngestEnvelope]:
    """The envelopes of one queue message (an array, or one object)."""
    text = body.decode() if isinstance(body, bytes) else body
    if text.lstrip().startswith("["):
        return _ENVELOPES.validate_json(text)
    return [IngestEnvelope.model_validate_json(text)]


def pack_envelopes(envelopes: Iterable[IngestEnvelope], max_bytes: int) -> list[str]:
    """Queue message bodies (JSON arrays) of at most ``max_bytes`` UTF-8 bytes each; an envelope
    larger than that travels alone."""
    bodies: list[str] = []
    current: list[str] = []
    size = 2
    for envelope in envelopes:
        text = envelope.model_dump_json()
        length = len(text.encode()) + 1
        if current and size + length > max_bytes:
            bodies.append("[" + ",".join(current) + "]")
            current, size = [], 2
        current.append(text)
        size += length
    if current:
        bodies.append("[" + ",".join(current) + "]")
    return bodies
