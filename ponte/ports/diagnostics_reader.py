from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict

Claims = Mapping[str, Any]


class DiagnosticsQuery(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    instance_id: str | None = None
    outcome: str | None = None
    since: datetime | None = None
    until: datetime | None = None
    before: tuple[datetime, int] | None = None  # keyset cursor: (occurred_at, id) of the last row seen
    limit: int = 50


class DiagnosticsReader(ABC):
    @abstractmethod
    def page(self, claims: Claims, query: DiagnosticsQuery) -> list[dict[str, Any]]:
        """Up to ``query.limit + 1`` rows, newest first, under the caller's RLS (admins only)."""

    @abstractmethod
    def purge(self, older_than: datetime, batch: int = 5000) -> int:
        """Delete rows older than ``older_than`` (service role); returns how many."""
