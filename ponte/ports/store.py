from __future__ import annotations

from abc import ABC, abstractmethod

from ponte.domain.envelope import IngestEnvelope
from ponte.domain.events import MessageEvent


class IngestStore(ABC):
    """Stores canonical events idempotently."""

    @abstractmethod
    def save_message(self, tenant_id: str, instance_id: str, event: MessageEvent) -> bool:
        """Store one message with its contact and conversation; False when it was already stored."""

    def save_other(self, envelope: IngestEnvelope) -> None:  # noqa: B027 - optional hook
        """Events other than messages; ignored unless an adapter handles them."""
