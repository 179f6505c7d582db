from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence

from ponte.domain.envelope import IngestEnvelope


class EventQueue(ABC):
    """Hands canonical events to the queue-driven functions."""

    @abstractmethod
    def publish(self, envelopes: Sequence[IngestEnvelope]) -> None: ...
