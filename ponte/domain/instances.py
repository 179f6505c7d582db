"""A WhatsApp instance as the proxy sees it (never with its secrets in clear)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

from ponte.domain.events import Provider


class InstanceRecord(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str
    tenant_id: str
    provider: Provider
    gateway_instance: str
    webhook_secret_hash: str
