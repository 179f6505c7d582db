"""What a frontend reads to work its inbox: conversation summaries and details, message history,
read receipts, contacts, leads and search hits -- as the read API answers them (issue 13).

Every page is ``{"items": [...], "next_cursor": str | null}``; a cursor is opaque to clients.
"""

from __future__ import annotations

import html
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict

from ponte.domain.analysis import Intent, Sentiment, Urgency
from ponte.domain.gateway_api import CustomerCard  # the ERP's record matched by phone, as deep links show it
from ponte.domain.lifecycle import State
from ponte.domain.scoring import Priority, StoredScoreParts

Scalar = str | int | float | bool | None
Direction = Literal["in", "out"]
LeadStage = Literal["new", "open", "won", "lost"]
ConversationStatus = Literal["open", "closed"]

PREVIEW_CHARS = 160
UNREAD_CAP = 999  # unread counts stop there ("999+"): counting further costs and says nothing


class View(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class InboxContact(View):
    id: str
    display_name: str | None
    phone: str | None  # E.164
    picture_url: str | None


class LastMessage(View):
    id: str
    direction: Direction
    kind: str
    preview: str | None  # the text or caption, cut at PREVIEW_CHARS
    occurred_at: datetime


class LeadBrief(View):
    id: str
    stage: LeadStage
    score: int | None


class AnalysisBrief(View):
    """The labels that count: an agent's correction wins over the model's."""

    sentiment: Sentiment
    intent: Intent
    urgency: Urgency
    priority: Priority


class ConversationSummary(View):
    id: str
    instance_id: str
    status: ConversationStatus
    contact: InboxContact
    last_message: LastMessage | None
    last_activity_at: datetime
    unread_count: int  # inbound messages after the caller's last read, capped at UNREAD_CAP
    lead: LeadBrief | None
    analysis: AnalysisBrief | None  # of the latest analysed inbound message
    priority: Priority
    sla_due_at: datetime | None
    sla_breached: bool
    # the lifecycle (status is "closed" exactly when the state is "resolved")
    state: State
    team_id: str | None
    assigned_to: str | None
    protocol: str | None
    snoozed_until: datetime | None


class ConversationPage(View):
    items: list[ConversationSummary]
    next_cursor: str | None


class LeadDetail(LeadBrief):
    source: str
    returning_customer: bool
    score_parts: StoredScoreParts | None


class SuggestionView(View):
    id: str
    text: str
    created_at: datetime
    message_id: str


class ConversationDetail(ConversationSummary):
    lead: LeadDetail | None  # the summary's brief, with its parts
    customer: CustomerCard | None
    suggestions: list[SuggestionView]  # open ones (not sent nor discarded), newest first


class SendState(View):
    status: Literal["pending", "sent", "unconfirmed", "failed"]
    error_code: str | None
    origin: Literal["agent", "automatic", "campaign"]  # automatic: greeting, queue position, CSAT...


class MessageView(View):
    id: str
    conversation_id: str
    direction: Direction
    kind: str
    body: str | None
    status: str | None
    occurred_at: datetime
    media: dict[str, Scalar] | None
    quoted_message_id: str | None
    analysis: AnalysisBrief | None
    send: SendState | None  # outbound messages sent through Ponte


class MessagePage(View):
    items: list[MessageView]
    next_cursor: str | None


class ReadReceipt(View):
    conversation_id: str
    unread_count: int
    read_at: datetime


class ContactSummary(InboxContact):
    conversation_ids: list[str]  # one per instance the contact wrote to
    updated_at: datetime


class ContactPage(View):
    items: list[ContactSummary]
    next_cursor: str | None


class LeadSummary(View):
    id: str
    stage: LeadStage
    score: int | None
    priority: Priority | None
    source: str
    returning_customer: bool
    contact: InboxContact
    conversation_id: str | None
    created_at: datetime


class LeadPage(View):
    items: list[LeadSummary]
    next_cursor: str | None


class InstanceSummary(View):
    """A WhatsApp number of the tenant: what the inbox filters by and the admins manage."""

    id: str
    provider: Literal["wppconnect", "evolution", "cloud"]
    gateway_instance: str
    status: str
    created_at: datetime


class InstanceList(View):
    items: list[InstanceSummary]  # oldest first; a tenant has a handful, so no cursor


class MessageHit(View):
    id: str
    snippet: str  # HTML: the matches in <mark>...</mark>, everything else escaped
    occurred_at: datetime


class SearchHit(View):
    conversation: ConversationSummary
    message: MessageHit


class SearchPage(View):
    items: list[SearchHit]
    next_cursor: str | None


# Private-use code points: around matches (made <mark> at the end), and standing in for < and >,
# which PostgreSQL's headline would otherwise take for HTML tags and drop from the text.
MARK_START, MARK_END, LESS, GREATER = "\ue000", "\ue001", "\ue002", "\ue003"
HEADLINE_FROM, HEADLINE_TO = f"<>{MARK_START}{MARK_END}{LESS}{GREATER}", f"{LESS}{GREATER}"  # SQL translate()


def snippet_html(headline: str) -> str:
    """A search headline as safe HTML: escaped, with its match markers as ``<mark>`` elements."""
    escaped = html.escape(headline).replace(LESS, "&lt;").replace(GREATER, "&gt;")
    return escaped.replace(MARK_START, "<mark>").replace(MARK_END, "</mark>")


def preview_of(body: str | None, caption: str | None) -> str | None:
    text = body if body else caption
    if not text:
        return None
    return text if len(text) <= PREVIEW_CHARS else text[: PREVIEW_CHARS - 1] + "…"
