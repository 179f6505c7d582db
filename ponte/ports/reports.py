"""The operations report's query (``ponte.adapters.postgres.reports``)."""

from __future__ import annotations

from abc import ABC, abstractmethod
from datetime import datetime

from pydantic import BaseModel, ConfigDict

from ponte.domain.kpis import KpiReport
from ponte.ports.lifecycle import Claims


class KpiQuery(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    tenant_id: str
    period_from: datetime
    period_to: datetime
    team_id: str | None = None
    agent_id: str | None = None
    instance_id: str | None = None


class ReportStore(ABC):
    @abstractmethod
    def kpis(self, claims: Claims, query: KpiQuery) -> KpiReport:
        """Under the caller's RLS, from ``conversation_events`` (and leads for the conversion)."""
