"""What the send use case needs from storage; every call runs under the caller's RLS."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict

from ponte.domain.feedback import SuggestionOutcome
from ponte.domain.gateway import SentMessage
from ponte.domain.outbound import OutboundContent
from ponte.domain.outbox import Origin, OutboxRecord, OutboxStatus
from ponte.ports.gateway import GatewayTarget

Claims = Mapping[str, Any]


class SendTarget(BaseModel):
    """Where a send goes: an existing conversation, or a virtual one (``conversation_id`` None)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    gateway: GatewayTarget
    conversation_id: str | None
    chat_key: str
    recipient: str  # E.164 digits or a JID, as the gateway takes it
    phone_e164: str | None = None


class OutboxDraft(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    target: SendTarget
    idempotency_key: str
    request_hash: str
    body: str
    suggestion_id: str | None = None
    suggestion_outcome: SuggestionOutcome | None = None
    origin: Origin = "agent"
    automatic_kind: str | None = None  # greeting, away, queue_position, csat_request, csat_thanks
    content: OutboundContent | None = None  # None: a text (``body``)


class SendStore(ABC):
    @abstractmethod
    def conversation_target(self, claims: Claims, conversation_id: str) -> SendTarget | None:
        """The conversation and its instance, if the caller may see it."""

    @abstractmethod
    def phone_target(self, claims: Claims, instance_id: str | None, phone_e164: str) -> SendTarget | None:
        """The caller's conversation with ``phone_e164`` (any alias) or a virtual one; None without an instance."""

    @abstractmethod
    def begin(self, claims: Claims, draft: OutboxDraft) -> tuple[OutboxRecord, bool]:
        """Insert the outbox row, or find the one with the same key; True when inserted."""

    @abstractmethod
    def mark(
        self,
        claims: Claims,
        outbox_id: str,
        status: OutboxStatus,
        *,
        error_code: str | None = None,
        attempt: bool = False,
    ) -> OutboxRecord: ...

    @abstractmethod
    def complete(self, claims: Claims, record: OutboxRecord, sent: SentMessage, occurred_at: datetime) -> OutboxRecord:
        """Store the outbound message once (creating contact and conversation of a virtual one) and mark sent."""

    @abstractmethod
    def find_echo(self, claims: Claims, record: OutboxRecord) -> str | None:
        """The provider id of a stored outbound message (the gateway's echo) that matches the record."""

    @abstractmethod
    def linked_provider_ids(self, claims: Claims, record: OutboxRecord) -> set[str]:
        """Provider ids other sends of this chat already claimed."""

    @abstractmethod
    def set_instance_status(self, instance_id: str, tenant_id: str, status: str) -> None: ...

    @abstractmethod
    def last_inbound_at(self, claims: Claims, conversation_id: str) -> datetime | None:
        """When the contact last wrote in this conversation (the Cloud API's service window)."""


class SuggestionNotFound(Exception):
    pass


class Suggestions(ABC):
    @abstractmethod
    def text_of(self, claims: Claims, suggestion_id: str, conversation_id: str | None) -> str:
        """The suggested text of a suggestion of this conversation. Raises SuggestionNotFound."""

    @abstractmethod
    def record(self, claims: Claims, suggestion_id: str, outcome: SuggestionOutcome, final_text: str) -> None:
        """What the agent did with it, once the message was sent (an earlier decision is kept)."""
