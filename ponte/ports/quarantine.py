from __future__ import annotations

from abc import ABC, abstractmethod

from ponte.domain.quarantine import QuarantinedPayload, QuarantineEntry


class QuarantineStore(ABC):
    """Where payloads that failed normalization wait for a fix and a replay."""

    @abstractmethod
    def put(self, entry: QuarantineEntry) -> None: ...

    @abstractmethod
    def pending(self, *, tenant_id: str | None = None, limit: int = 100) -> list[QuarantinedPayload]:
        """Entries not replayed yet, oldest first."""

    @abstractmethod
    def mark_replayed(self, entry_id: int, outcome: str, reason: str | None) -> None: ...
