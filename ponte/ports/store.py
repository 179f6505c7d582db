from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta

from ponte.domain.envelope import IngestEnvelope
from ponte.domain.events import ContactsEvent, MessageEvent, StatusEvent


@dataclass(frozen=True)
class SavedMessage:
    """What storing one message did."""

    stored: bool  # False: a duplicate delivery, nothing new was written
    message_id: str | None = None
    lead_id: str | None = None  # set when this message created the contact's lead
    # an inbound text without an analysis yet: the analyze job is (re-)enqueued, at least once
    needs_analysis: bool = False
    # a newly stored message (stored=True): where it went, for the lifecycle's after-commit job
    conversation_id: str | None = None
    inbound: bool = False
    kind: str | None = None
    occurred_at: datetime | None = None


class IngestStore(ABC):
    """Stores canonical events idempotently."""

    @abstractmethod
    def save_message(self, tenant_id: str, instance_id: str, event: MessageEvent) -> SavedMessage:
        """Store one message with its contact, conversation and (first inbound message) lead."""

    @abstractmethod
    def save_status(self, tenant_id: str, instance_id: str, event: StatusEvent) -> bool:
        """Apply an ack / delete to the message it names; False when no stored message changed."""

    @abstractmethod
    def save_contacts(self, tenant_id: str, event: ContactsEvent) -> int:
        """Refresh names and identity links of known contacts; the number updated."""

    @abstractmethod
    def expire_pending(self, max_age: timedelta) -> dict[str, int]:
        """Drop the acks, revokes and edits that waited longer than ``max_age`` for their message;
        the number dropped per kind."""

    @contextmanager
    def batch(self, tenant_id: str, messages: Sequence[MessageEvent] = ()) -> Iterator[None]:
        """Everything stored inside the block is one unit of work (one transaction) when the
        adapter supports it; all or nothing. By default each event stays its own unit.
        ``messages``: the message events the block will store (an adapter may screen them at once)."""
        yield

    def save_other(self, envelope: IngestEnvelope) -> None:  # noqa: B027 - optional hook
        """Events other than messages; ignored unless an adapter handles them."""
