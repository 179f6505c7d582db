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
    conversation_id: str | None = None  # the conversation it belongs to
    conversation_created: bool = False  # this message opened the conversation
    # a newly stored message (stored=True): what follow-up jobs of the commit need to know
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

    def save_event(self, envelope: IngestEnvelope) -> SavedMessage:
        """One event of any kind, as a lone delivery stores it (acks and contact syncs: ``stored``
        says whether anything changed)."""
        event = envelope.event
        if isinstance(event, MessageEvent):
            return self.save_message(envelope.tenant_id, envelope.instance_id, event)
        if isinstance(event, StatusEvent):
            return SavedMessage(stored=self.save_status(envelope.tenant_id, envelope.instance_id, event))
        if isinstance(event, ContactsEvent):
            return SavedMessage(stored=self.save_contacts(envelope.tenant_id, event) > 0)
        self.save_other(envelope)
        return SavedMessage(stored=False)

    def save_batch(self, tenant_id: str, envelopes: Sequence[IngestEnvelope]) -> list[SavedMessage]:
        """The events of one tenant (a queue batch) as one unit of work, one result per envelope in
        their order. All or nothing: when it raises, nothing of the batch is stored. By default one
        event at a time inside ``batch``; an adapter may write the batch set-based, with the same
        results as storing the events one by one in their order."""
        with self.batch(tenant_id, [e.event for e in envelopes if isinstance(e.event, MessageEvent)]):
            return [self.save_event(envelope) for envelope in envelopes]

    def save_other(self, envelope: IngestEnvelope) -> None:  # noqa: B027 - optional hook
        """Events other than messages; ignored unless an adapter handles them."""
