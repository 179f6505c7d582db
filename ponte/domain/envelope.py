"""What travels on the ingest queue: one canonical event and the tenant it belongs to."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict

from ponte.domain.events import CanonicalEvent


class IngestEnvelope(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    version: int = 1
    tenant_id: str
    instance_id: str
    received_at: datetime
    event: CanonicalEvent
