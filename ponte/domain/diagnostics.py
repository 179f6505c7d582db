"""One row of the proxy diagnostics log: what an admin reads in Settings > WhatsApp."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict


class DiagnosticsEntry(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    route: str
    outcome: str
    tenant_id: str | None = None
    instance_id: str | None = None
    event: str | None = None
    status_code: int | None = None
    latency_ms: float | None = None
    error_code: str | None = None
    detail: dict[str, Any] | None = None
