"""The alerts' sweep: raise what holds now (once each), clear what no longer holds."""

from __future__ import annotations

from abc import ABC, abstractmethod
from datetime import datetime


class AlertStore(ABC):
    @abstractmethod
    def sweep(self, now: datetime) -> dict[str, int]:
        """Every tenant's alerts raised by this sweep, by kind (``ops_alerts`` rows; the database
        broadcasts each new one on the tenant's admin topic)."""
