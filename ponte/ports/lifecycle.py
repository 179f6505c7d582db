"""What the lifecycle needs from storage and from the outbox.

Writes run as the service, scoped to one tenant; what a user may touch is checked first under the
user's RLS (``access``). A ``LifecycleUnit`` is one transaction holding the conversation's row
lock: the proxy's actions and the lifecycle function serialize on it."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping
from contextlib import AbstractContextManager
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

from ponte.domain.business_hours import Schedule
from ponte.domain.lifecycle import Lifecycle, Transition
from ponte.domain.lifecycle_job import LifecycleJob
from ponte.domain.operations import AutomaticKind, OperationsSettings
from ponte.domain.operations_api import EventView
from ponte.domain.routing import RoutingFacts, RoutingRule

Claims = Mapping[str, Any]
Role = Literal["owner", "admin", "agent"]


class Access(BaseModel):
    """The caller may see the conversation: its tenant and the caller's role there."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    tenant_id: str
    user_id: str
    role: Role


class ConversationState(BaseModel):
    """A conversation as the lifecycle reads it (under its row lock)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str
    tenant_id: str
    instance_id: str
    lifecycle: Lifecycle
    protocol: str | None
    contact_name: str | None
    cycle_started_at: datetime | None
    state_changed_at: datetime
    queued_at: datetime | None
    assigned_at: datetime | None
    waiting_since: datetime | None
    first_response_at: datetime | None
    previous_assignee: str | None
    csat_requested_at: datetime | None
    csat_answered: bool  # this cycle's CSAT answer is stored
    sla_due_at: datetime | None = None
    sla_breach_recorded_for: datetime | None = None


class InboundMessage(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str
    kind: str
    body: str | None
    occurred_at: datetime


class OutboundOrigin(BaseModel):
    """Who sent an outbound message: an agent through Ponte, automation, a campaign, or a person on
    the phone (``origin`` None: no outbox row)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    message_id: str
    origin: Literal["agent", "automatic", "campaign"] | None
    author_id: str | None
    occurred_at: datetime


class LifecycleUnit(ABC):
    conversation: ConversationState

    @abstractmethod
    def apply(
        self,
        transition: Transition,
        at: datetime,
        *,
        value_seconds: float | None = None,
        business_seconds: float | None = None,
    ) -> EventView:
        """Store the transition on the conversation (state, status, team, assignee, timestamps; a new
        cycle's protocol) and record its event."""

    @abstractmethod
    def record_open(self, at: datetime) -> EventView:
        """The first cycle starts at the customer's first message: protocol and an ``open`` event."""

    @abstractmethod
    def customer_waits(self, at: datetime) -> None:
        """The reply clock runs from ``at`` unless it already runs."""

    @abstractmethod
    def record_reply(
        self, message_id: str, agent_id: str | None, at: datetime, schedule: Schedule | None = None
    ) -> list[EventView]:
        """A human, public reply: stops the reply clock (``reply`` event) and, the first of the
        cycle, the first-response clock (``first_response``), each also in business seconds of
        ``schedule``; a late one records the SLA's breach; clears the SLA. Idempotent per message."""

    @abstractmethod
    def record_sla_breach(self, at: datetime) -> EventView | None:
        """The pending SLA broke (once per due time); None when it was already recorded or none is due."""

    @abstractmethod
    def record_csat(self, score: int, message_id: str, at: datetime) -> bool:
        """The cycle's CSAT answer, once (False when one is already stored)."""

    @abstractmethod
    def mark_csat_requested(self, at: datetime) -> None: ...

    @abstractmethod
    def schedule(self) -> Schedule | None:
        """The business hours that apply to the conversation now (read in this transaction)."""

    @abstractmethod
    def member_role(self, user_id: str) -> Role | None:
        """The user's role in the conversation's tenant, None when not a member."""

    @abstractmethod
    def team_exists(self, team_id: str) -> bool: ...

    @abstractmethod
    def add_note(self, author_id: str, body: str, mentions: tuple[str, ...]) -> str: ...


class LifecycleStore(ABC):
    @abstractmethod
    def access(self, claims: Claims, conversation_id: str) -> Access | None:
        """Under the caller's RLS: None when they cannot see the conversation."""

    @abstractmethod
    def events(self, claims: Claims, conversation_id: str, limit: int = 500) -> list[EventView] | None:
        """The conversation's events, oldest first, under the caller's RLS (None: cannot see it)."""

    @abstractmethod
    def unit(self, tenant_id: str, conversation_id: str) -> AbstractContextManager[LifecycleUnit | None]:
        """The conversation locked for one transaction (None when it is gone)."""

    @abstractmethod
    def settings(self, tenant_id: str) -> OperationsSettings: ...

    @abstractmethod
    def routing_rules(self, tenant_id: str) -> tuple[RoutingRule, ...]: ...

    @abstractmethod
    def schedule(self, tenant_id: str, instance_id: str, team_id: str | None) -> Schedule | None:
        """The business hours that apply: the team's, else the instance's, else the tenant's; None: always open."""

    @abstractmethod
    def routing_facts(self, tenant_id: str, message_id: str) -> RoutingFacts | None:
        """The message's analysis (an agent's correction wins) and instance."""

    @abstractmethod
    def inbound_messages(self, tenant_id: str, message_ids: list[str]) -> list[InboundMessage]: ...

    @abstractmethod
    def outbound_origins(self, tenant_id: str, message_ids: list[str]) -> list[OutboundOrigin]: ...

    @abstractmethod
    def assign_waiting(
        self, tenant_id: str, team_id: str | None, now: datetime, settings: OperationsSettings, limit: int = 50
    ) -> list[tuple[str, str]]:
        """Automatic assignment of the team's queue (all teams: ``team_id`` None): claims waiting
        conversations (``FOR UPDATE SKIP LOCKED``, most urgent first), gives each to the agent the
        team's policy picks, records the events; (conversation id, agent id) of each."""

    @abstractmethod
    def queue_position(self, tenant_id: str, conversation_id: str) -> tuple[int, float | None] | None:
        """(position in its team's queue from 1, the team's median queue wait in seconds over the
        last day) of a waiting conversation; None when it is not waiting."""

    @abstractmethod
    def due_snoozes(self, now: datetime, limit: int = 200) -> list[tuple[str, str]]: ...

    @abstractmethod
    def stale_bots(self, now: datetime, limit: int = 200) -> list[tuple[str, str]]:
        """(tenant, conversation) with the automation longer than the tenant's ``bot_timeout_seconds``."""

    @abstractmethod
    def expire_presence(self, now: datetime) -> int:
        """Members whose heartbeat is older than their tenant's TTL go offline; how many."""

    @abstractmethod
    def breached_slas(self, now: datetime, limit: int = 500) -> list[tuple[str, str]]:
        """(tenant, conversation) whose SLA broke with the customer still waiting, not yet recorded."""

    @abstractmethod
    def teams_with_queue(self) -> list[tuple[str, str | None]]:
        """(tenant, team) pairs with waiting conversations and automatic assignment on."""


class AutomaticSender(ABC):
    """Automatic messages go out through the same outbox as agents' sends (``SendService``)."""

    @abstractmethod
    def send(self, tenant_id: str, conversation_id: str, kind: AutomaticKind, text: str, key: str) -> bool:
        """Send once per ``key`` (the outbox's idempotency key); False when it could not be sent."""


class LifecycleQueue(ABC):
    @abstractmethod
    def publish(self, jobs: list[LifecycleJob]) -> None:
        """Jobs onto the lifecycle queue, in batches."""
