"""Reading the inbox under the caller's row-level security."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

from ponte.domain.inbox import (
    ContactSummary,
    ConversationDetail,
    ConversationSummary,
    InstanceSummary,
    LeadSummary,
    MessageView,
    ReadReceipt,
    SearchHit,
)

Claims = Mapping[str, Any]


class InboxQuery(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    now: datetime  # SLA state is judged against this instant, for every row alike
    status: str | None = None
    priority: str | None = None
    instance_id: str | None = None
    sla: Literal["breached", "due_soon"] | None = None
    unread: bool = False
    lead_stage: str | None = None
    updated_since: datetime | None = None
    state: str | None = None  # the lifecycle: bot, waiting, in_service, snoozed, resolved
    team_id: str | None = None
    assigned_to: str | None = None  # a user id, "me" or "none"
    after: tuple[datetime, str] | None = None  # keyset cursor: (activity, id) of the last row seen
    limit: int = 50


class ContactQuery(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    text: str | None = None  # folded (lower case, no accents) name fragment
    phones: tuple[str, ...] = ()  # canonical forms a typed number may stand for
    digits: str | None = None  # a typed number's digits, matched anywhere in the phone
    after: tuple[datetime, str] | None = None
    limit: int = 50


class LeadQuery(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    stage: str | None = None
    source: str | None = None
    score_min: int | None = None
    score_max: int | None = None
    after: tuple[datetime, str] | None = None
    limit: int = 50


class InboxReader(ABC):
    @abstractmethod
    def conversations(self, claims: Claims, query: InboxQuery) -> list[ConversationSummary]:
        """Up to ``query.limit + 1`` summaries, newest activity first."""

    @abstractmethod
    def conversation(self, claims: Claims, conversation_id: str, now: datetime) -> ConversationDetail | None:
        """None when the caller cannot see it (another tenant's, or gone)."""

    @abstractmethod
    def messages(
        self, claims: Claims, conversation_id: str, before: tuple[datetime, str] | None, limit: int
    ) -> list[MessageView] | None:
        """Up to ``limit + 1`` messages, newest first; None when the conversation is not visible."""

    @abstractmethod
    def mark_read(self, claims: Claims, conversation_id: str) -> ReadReceipt | None:
        """The caller's read mark moves to now (never back); None when the conversation is not visible."""

    @abstractmethod
    def contacts(self, claims: Claims, query: ContactQuery) -> list[ContactSummary]:
        """Up to ``limit + 1`` contacts, last updated first, with their conversations."""

    @abstractmethod
    def leads(self, claims: Claims, query: LeadQuery) -> list[LeadSummary]:
        """Up to ``limit + 1`` leads, newest first."""

    @abstractmethod
    def instances(self, claims: Claims) -> list[InstanceSummary]:
        """The WhatsApp instances of the caller's tenants, oldest first."""

    @abstractmethod
    def search(
        self, claims: Claims, text: str, before: tuple[datetime, str] | None, limit: int, now: datetime
    ) -> list[SearchHit]:
        """Up to ``limit + 1`` matching messages, newest first, each with its conversation."""
