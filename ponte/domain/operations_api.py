"""What the operations routes take and answer: lifecycle actions, notes, teams, presence,
routing rules and settings (the frontend contract is generated from these models)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from ponte.domain.assignment import AssignmentOrder
from ponte.domain.business_hours import Schedule
from ponte.domain.lifecycle import Action, ActorType, State
from ponte.domain.operations import OperationsSettings
from ponte.domain.routing import RoutingRule

MAX_NOTE_CHARS = 4000
MAX_MENTIONS = 20
PresenceStatus = Literal["online", "away", "offline"]
EventKind = Literal["transition", "first_response", "reply", "csat", "sla_breach"]


class Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


# --- requests ------------------------------------------------------------------------------------


class AssignRequest(Model):
    """``{"agent_id"}`` (the caller's own id to take it) or ``{"team_id"}`` (into that team's queue)."""

    agent_id: str | None = None
    team_id: str | None = None


class TransferRequest(Model):
    agent_id: str | None = None
    team_id: str | None = None
    note: str | None = Field(default=None, max_length=MAX_NOTE_CHARS)  # kept as an internal note


class SnoozeRequest(Model):
    until: datetime | None = None  # None: until the customer's next message


class ResolveRequest(Model):
    reason: str | None = Field(default=None, max_length=500)


class NoteRequest(Model):
    body: str = Field(min_length=1, max_length=MAX_NOTE_CHARS)
    mentions: list[str] = Field(default_factory=list, max_length=MAX_MENTIONS)  # user ids of the tenant


class PresenceRequest(Model):
    status: PresenceStatus
    tenant_id: str | None = None  # needed only by a member of several tenants


class TeamRequest(Model):
    name: str = Field(min_length=1, max_length=80)
    assignment_order: AssignmentOrder = AssignmentOrder.ROUND_ROBIN
    auto_assign: bool = True
    agent_capacity: int | None = Field(default=None, ge=1, le=1000)
    fair_limit: int = Field(default=30, ge=1, le=10000)
    fair_window_seconds: int = Field(default=3600, ge=60, le=86400)
    tenant_id: str | None = None


class TeamMembersRequest(Model):
    user_ids: list[str] = Field(max_length=500)


class RoutingRulesRequest(Model):
    rules: list[RoutingRule] = Field(max_length=100)
    tenant_id: str | None = None


class SettingsRequest(Model):
    settings: OperationsSettings
    tenant_id: str | None = None


# --- views ---------------------------------------------------------------------------------------


class EventView(Model):
    id: int
    conversation_id: str
    cycle: int
    kind: EventKind
    action: Action | None
    from_state: State | None
    to_state: State | None
    actor_type: ActorType
    actor_id: str | None
    reason: str | None
    team_id: str | None
    agent_id: str | None
    message_id: str | None
    value_seconds: float | None
    occurred_at: datetime


class EventList(Model):
    items: list[EventView]


class LifecycleView(Model):
    """The conversation's lifecycle after an action, with the event it recorded."""

    conversation_id: str
    state: State
    status: Literal["open", "closed"]
    cycle: int
    protocol: str | None
    team_id: str | None
    assigned_to: str | None
    snoozed_until: datetime | None
    state_changed_at: datetime
    event: EventView | None


class NoteView(Model):
    id: str
    conversation_id: str
    author_id: str | None
    body: str
    mentions: list[str]
    created_at: datetime


class NotePage(Model):
    items: list[NoteView]
    next_cursor: str | None


class TeamView(Model):
    id: str
    tenant_id: str
    name: str
    assignment_order: AssignmentOrder
    auto_assign: bool
    agent_capacity: int | None
    fair_limit: int
    fair_window_seconds: int
    members: list[str]
    created_at: datetime


class TeamList(Model):
    items: list[TeamView]


class AgentView(Model):
    user_id: str
    tenant_id: str
    email: str | None
    role: Literal["owner", "admin", "agent"]
    presence: PresenceStatus  # offline when the heartbeat is older than the tenant's TTL
    last_seen_at: datetime | None
    team_ids: list[str]
    open_conversations: int


class AgentList(Model):
    items: list[AgentView]


class PresenceView(Model):
    tenant_id: str
    user_id: str
    status: PresenceStatus
    last_seen_at: datetime
    expires_at: datetime  # send a heartbeat before this


class RoutingRuleList(Model):
    tenant_id: str
    items: list[RoutingRule]


class SettingsView(Model):
    tenant_id: str
    settings: OperationsSettings


class BusinessHours(Model):
    """A schedule and its scope: the tenant's (both ids null), an instance's, or a team's."""

    instance_id: str | None = None
    team_id: str | None = None
    schedule: Schedule


class BusinessHoursRequest(Model):
    items: list[BusinessHours] = Field(max_length=200)
    tenant_id: str | None = None


class HolidayView(Model):
    date: date
    name: str


class BusinessHoursView(Model):
    tenant_id: str
    items: list[BusinessHours]
    national_holidays: list[HolidayView]  # this year's and next year's, built in
