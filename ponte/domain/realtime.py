"""What web UIs receive over Supabase Realtime: private topics, their events and payloads.

The database sends these (``infra/supabase/migrations/*realtime*.sql`` builds each
payload with ``jsonb_build_object``); this module is their contract. The frontend
contract (JSON Schemas, TypeScript types, the catalogue) is generated from it, and
tests check that what the triggers send validates against it.

To add an event: add its payload model, list it under its topic in ``TOPICS``, make a
trigger call ``private.broadcast_to_tenant`` (or ``_admins`` / ``_conversation``),
then run ``ponte contract`` to regenerate ``frontend_contract/``.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict

from ponte.domain.campaigns.api import CampaignProgress
from ponte.domain.events import Media, MessageKind
from ponte.domain.scoring import StoredScoreParts

Priority = Literal["low", "medium", "high", "critical"]


class Payload(BaseModel):
    """A realtime payload: closed (``additionalProperties: false``) and immutable."""

    model_config = ConfigDict(frozen=True, extra="forbid")


class MessagePayload(Payload):
    """``message_created`` / ``message_updated``: one WhatsApp message of the tenant."""

    id: UUID
    tenant_id: UUID
    instance_id: UUID
    conversation_id: UUID
    contact_id: UUID
    direction: Literal["in", "out"]
    kind: MessageKind
    body: str | None
    media: Media | None
    quoted_message_id: str | None
    status: str | None
    occurred_at: datetime
    created_at: datetime


class MediaPayload(Payload):
    """``media_updated``: a received file's state (pending -> stored | too_large | failed); read it with
    ``GET /messages/{message_id}/media``."""

    message_id: UUID
    tenant_id: UUID
    conversation_id: UUID
    state: Literal["pending", "stored", "too_large", "failed"]
    content_type: str | None
    size_bytes: int | None
    error_code: str | None
    updated_at: datetime


ConversationField = Literal[
    "priority", "sla_due_at", "assigned_to", "status", "state", "team_id", "protocol", "snoozed_until"
]
LifecycleState = Literal["bot", "waiting", "in_service", "snoozed", "resolved"]


class ConversationPayload(Payload):
    """``conversation_created`` / ``conversation_updated``; ``changed`` names what changed (empty when created)."""

    id: UUID
    tenant_id: UUID
    instance_id: UUID
    contact_id: UUID
    priority: Priority
    sla_due_at: datetime | None
    assigned_to: UUID | None
    status: Literal["open", "closed"]
    state: LifecycleState
    team_id: UUID | None
    protocol: str | None
    cycle: int
    snoozed_until: datetime | None
    last_message_at: datetime | None
    created_at: datetime
    changed: list[ConversationField]


class ConversationEventPayload(Payload):
    """``conversation_event``: a lifecycle transition (who, when, why) or a reply that stopped a clock."""

    id: int
    tenant_id: UUID
    conversation_id: UUID
    instance_id: UUID
    cycle: int
    kind: Literal["transition", "first_response", "reply", "csat", "sla_breach"]
    action: Literal["open", "route", "assign", "transfer", "snooze", "wake", "resolve", "reopen"] | None
    from_state: LifecycleState | None
    to_state: LifecycleState | None
    actor_type: Literal["system", "agent", "rule", "customer"]
    actor_id: UUID | None
    reason: str | None
    team_id: UUID | None
    agent_id: UUID | None
    message_id: UUID | None
    value_seconds: float | None
    occurred_at: datetime


class NotePayload(Payload):
    """``note_created``: an internal note (never sent to WhatsApp)."""

    id: UUID
    tenant_id: UUID
    conversation_id: UUID
    author_id: UUID | None
    body: str
    mentions: list[UUID]
    created_at: datetime


class MentionPayload(Payload):
    """``mentioned``: a colleague mentioned the user in a note (on the user's own topic only)."""

    note_id: UUID
    tenant_id: UUID
    conversation_id: UUID
    author_id: UUID | None
    excerpt: str
    created_at: datetime


class PresencePayload(Payload):
    """``agent_presence_changed``: a member went online, away or offline (heartbeat expired)."""

    tenant_id: UUID
    user_id: UUID
    status: Literal["online", "away", "offline"]
    changed_at: datetime


class ConversationMergedPayload(Payload):
    """``conversation_merged``: conversation ``id`` is gone, its messages are now in ``merged_into``
    (a payload proved two contacts to be one person)."""

    id: UUID
    tenant_id: UUID
    merged_into: UUID


class ConversationDeletedPayload(Payload):
    """``conversation_deleted``: the conversation is gone (its contact was hidden or erased, or it
    was merged into another thread of the same person): drop it from the inbox."""

    id: UUID
    tenant_id: UUID


class InstanceStatusPayload(Payload):
    """``instance_status_changed``: a WhatsApp instance's connection status moved (admins only)."""

    id: UUID
    tenant_id: UUID
    provider: Literal["wppconnect", "evolution", "cloud"]
    gateway_instance: str
    status: str
    previous_status: str | None


class InstanceQrPayload(Payload):
    """``instance_qr_updated``: a new QR / pairing code to log the instance in again (admins only).

    Rate-limited and deduplicated by the session recovery: gateways can loop and emit hundreds a minute.
    """

    id: UUID  # the instance's id (realtime payloads carry an ``id``)
    instance_id: UUID
    tenant_id: UUID
    qr_code: str | None
    qr_image: str | None
    pairing_code: str | None
    generated_at: datetime


class DiagnosticPayload(Payload):
    """``diagnostic_recorded``: the proxy rejected a call for this tenant (admins only)."""

    id: int
    tenant_id: UUID
    instance_id: UUID | None
    occurred_at: datetime
    route: str
    event: str | None
    outcome: str
    status_code: int | None
    latency_ms: float | None
    error_code: str | None


class LeadPayload(Payload):
    """``lead_created`` / ``lead_scored``: a contact's lead, its ERP match, source and current score."""

    id: UUID
    tenant_id: UUID
    contact_id: UUID
    customer_id: UUID | None
    returning_customer: bool
    source: Literal["organic", "ctwa_ad", "search", "deep_link"]
    source_id: str | None
    conversation_id: UUID | None
    status: Literal["new", "open", "won", "lost"]
    score: int | None
    score_parts: StoredScoreParts | None
    priority: Priority | None
    scored_at: datetime | None
    created_at: datetime


class AnalysisPayload(Payload):
    """``analysis_ready``: a customer's message was analysed (again, when the full analysis replaces a
    degraded one); ``score_parts`` explains the lead score."""

    id: UUID
    tenant_id: UUID
    message_id: UUID
    conversation_id: UUID
    lead_id: UUID | None
    sentiment: Literal["negative", "neutral", "positive"]
    intent: str
    urgency: Literal["low", "medium", "high"]
    degraded: bool
    score: int
    score_parts: StoredScoreParts
    priority: Priority
    sla_due_at: datetime
    updated_at: datetime


class SuggestionPayload(Payload):
    """``suggestion_ready``: a reply suggestion for the agent (never sent automatically), or its outcome."""

    id: UUID
    tenant_id: UUID
    message_id: UUID
    conversation_id: UUID
    text: str
    source: Literal["llm", "template"]
    outcome: Literal["as_is", "edited", "discarded"] | None
    created_at: datetime


class AlertPayload(Payload):
    """``ops_alert``: an operations alert, raised once (ponte.domain.alerts): an SLA at 80 % or broken, a
    long queue, a spike of negative messages on an instance, an instance disconnected."""

    id: int
    tenant_id: UUID
    kind: Literal["sla_warning", "sla_breached", "queue_long", "negative_spike", "instance_disconnected"]
    instance_id: UUID | None
    team_id: UUID | None
    conversation_id: UUID | None
    value: float | None
    threshold: float | None
    raised_at: datetime


class CampaignPayload(Payload):
    """``campaign_updated``: a campaign's state or progress counts changed (counts only, no contact)."""

    id: UUID
    tenant_id: UUID
    instance_id: UUID
    name: str
    status: Literal["draft", "approved", "running", "paused", "completed", "cancelled"]
    pause_code: str | None
    pause_reason: str | None
    approved_at: datetime | None
    started_at: datetime | None
    completed_at: datetime | None
    progress: CampaignProgress
    updated_at: datetime


class Audience(StrEnum):
    MEMBERS = "members"  # any member of the tenant (owner, admin, agent)
    ADMINS = "admins"  # owners and admins of the tenant
    SELF = "self"  # the one user the topic names


class EventSpec(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str
    payload: type[Payload]
    description: str


class TopicSpec(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    pattern: str  # with {placeholders}
    audience: Audience
    description: str
    events: tuple[EventSpec, ...]


_MESSAGE_EVENTS = (
    EventSpec(name="message_created", payload=MessagePayload, description="a message was stored (in or out)"),
    EventSpec(
        name="message_updated",
        payload=MessagePayload,
        description="a stored message changed (delivery status, edit, revoke)",
    ),
    EventSpec(
        name="media_updated",
        payload=MediaPayload,
        description="a received file was fetched (stored), refused (too_large) or could not be (failed)",
    ),
)

_ANALYSIS_EVENTS = (
    EventSpec(
        name="analysis_ready",
        payload=AnalysisPayload,
        description="a customer's message was analysed: labels, lead score with its parts, priority, SLA",
    ),
    EventSpec(
        name="suggestion_ready",
        payload=SuggestionPayload,
        description="a reply suggestion was stored for the agent, or its outcome recorded",
    ),
)

_NOTE_EVENT = EventSpec(name="note_created", payload=NotePayload, description="an internal note was added")

TOPICS: tuple[TopicSpec, ...] = (
    TopicSpec(
        pattern="tenant:{tenant_id}",
        audience=Audience.MEMBERS,
        description="everything an inbox shows, for every member of the tenant",
        events=(
            *_MESSAGE_EVENTS,
            EventSpec(
                name="conversation_created",
                payload=ConversationPayload,
                description="a new conversation (first message of a chat)",
            ),
            EventSpec(
                name="conversation_updated",
                payload=ConversationPayload,
                description="priority, SLA, assignment, state, team, protocol or snooze changed; `changed` says which",
            ),
            EventSpec(
                name="conversation_event",
                payload=ConversationEventPayload,
                description="a lifecycle transition (actor, time, reason) or a human reply that stopped a clock",
            ),
            _NOTE_EVENT,
            EventSpec(
                name="agent_presence_changed",
                payload=PresencePayload,
                description="a member went online, away or offline (an expired heartbeat reads offline)",
            ),
            EventSpec(
                name="conversation_deleted",
                payload=ConversationDeletedPayload,
                description="a conversation is gone: its contact was hidden or erased, or it was merged",
            ),
            EventSpec(
                name="conversation_merged",
                payload=ConversationMergedPayload,
                description="a conversation was folded into another one of the same person (`merged_into`)",
            ),
            EventSpec(name="lead_created", payload=LeadPayload, description="a new number became a lead"),
            EventSpec(name="lead_scored", payload=LeadPayload, description="a lead's score or priority changed"),
            *_ANALYSIS_EVENTS,
            EventSpec(
                name="campaign_updated",
                payload=CampaignPayload,
                description="a campaign was created, approved, started, paused, resumed, cancelled or completed,"
                " or its progress counts moved (sent, delivered, read, failed, replied, opted out)",
            ),
        ),
    ),
    TopicSpec(
        pattern="tenant:{tenant_id}:admin",
        audience=Audience.ADMINS,
        description="WhatsApp instance operations and the diagnostics log, for owners and admins",
        events=(
            EventSpec(
                name="instance_status_changed",
                payload=InstanceStatusPayload,
                description="the instance's connection status changed",
            ),
            EventSpec(
                name="instance_qr_updated",
                payload=InstanceQrPayload,
                description="a new QR / pairing code for an admin to scan (after a reset total, rate-limited)",
            ),
            EventSpec(
                name="ops_alert",
                payload=AlertPayload,
                description="an operations alert, once: SLA at 80 % or broken, long queue, negative spike, "
                "instance disconnected",
            ),
            EventSpec(
                name="diagnostic_recorded",
                payload=DiagnosticPayload,
                description="the proxy rejected a call (a `proxy_diagnostics` row with outcome `rejected`)",
            ),
        ),
    ),
    TopicSpec(
        pattern="conversation:{conversation_id}",
        audience=Audience.MEMBERS,
        description="the messages of one conversation, for a UI that has it open",
        events=(*_MESSAGE_EVENTS, *_ANALYSIS_EVENTS, _NOTE_EVENT),
    ),
    TopicSpec(
        pattern="user:{user_id}",
        audience=Audience.SELF,
        description="what concerns one user: mentions in notes",
        events=(
            EventSpec(
                name="mentioned",
                payload=MentionPayload,
                description="a colleague mentioned the user in an internal note",
            ),
        ),
    ),
)


def tenant_topic(tenant_id: str) -> str:
    return f"tenant:{tenant_id}"


def tenant_admin_topic(tenant_id: str) -> str:
    return f"tenant:{tenant_id}:admin"


def user_topic(user_id: str) -> str:
    return f"user:{user_id}"


def conversation_topic(conversation_id: str) -> str:
    return f"conversation:{conversation_id}"


def payload_model(topic_pattern: str, event: str) -> type[Payload]:
    for topic in TOPICS:
        if topic.pattern == topic_pattern:
            for spec in topic.events:
                if spec.name == event:
                    return spec.payload
    raise KeyError(f"no event {event!r} on topic {topic_pattern!r}")
