"""Lead score, priority and SLA: pure functions over an analysis and the conversation's engagement.

The score (0-100) is the sum of three parts, stored with the analysis so a UI can
explain it: purchase intent (up to 45), sentiment (up to 25), engagement (up to 30).
Priority comes from the triage table (urgency first; negative sentiment and a billing
dispute raise it; a hot lead is never left at low), and the SLA due time from the
priority: critical 15 min, high 1 h, medium 4 h, low 24 h.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field

from ponte.domain.analysis import Analysis, Intent, Sentiment, Urgency

INTENT_MAX = 45
SENTIMENT_MAX = 25
ENGAGEMENT_MAX = 30
HOT_LEAD = 70

# How much each intent says about buying; scaled by the classifier's confidence.
INTENT_WEIGHT: dict[Intent, float] = {
    Intent.PURCHASE_INTEREST: 1.0,
    Intent.BILLING_NEGOTIATION: 0.55,
    Intent.BILLING_PAYMENT: 0.45,
    Intent.SUPPORT_REQUEST: 0.25,
    Intent.GREETING: 0.2,
    Intent.OTHER: 0.1,
    Intent.COMPLAINT: 0.05,
    Intent.BILLING_DISPUTE: 0.0,
    Intent.CANCELLATION: 0.0,
}


class Priority(StrEnum):
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"
    CRITICAL = "critical"


PRIORITY_ORDER = (Priority.LOW, Priority.MEDIUM, Priority.HIGH, Priority.CRITICAL)

SLA: dict[Priority, timedelta] = {
    Priority.CRITICAL: timedelta(minutes=15),
    Priority.HIGH: timedelta(hours=1),
    Priority.MEDIUM: timedelta(hours=4),
    Priority.LOW: timedelta(hours=24),
}


class Engagement(BaseModel):
    """What the conversation shows about the contact's engagement, up to the analysed message."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    inbound_messages: int = Field(ge=0)
    outbound_messages: int = Field(ge=0)
    # the contact wrote again after an agent's answer: a two-way conversation
    replied_to_agent: bool = False


class ScoreParts(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    intent: int = Field(ge=0, le=INTENT_MAX)
    sentiment: int = Field(ge=0, le=SENTIMENT_MAX)
    engagement: int = Field(ge=0, le=ENGAGEMENT_MAX)
    intent_label: Intent
    sentiment_label: Sentiment
    inbound_messages: int
    replied_to_agent: bool


class StoredScoreParts(ScoreParts):
    """``score_parts`` as stored (leads, message_analyses) and sent to the UIs: the parts, the total
    and the triage reasons."""

    total: int = Field(ge=0, le=100)
    triage: tuple[str, ...]


class LeadScore(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    total: int = Field(ge=0, le=100)
    parts: ScoreParts


class Triage(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    priority: Priority
    sla_due_at: datetime
    reasons: tuple[str, ...]


def lead_score(analysis: Analysis, engagement: Engagement) -> LeadScore:
    # Confidence shrinks the intent part toward half of its weight: an unsure "purchase" still counts some.
    intent_share = INTENT_WEIGHT[analysis.intent] * (0.5 + 0.5 * analysis.intent_confidence)
    intent_points = round(INTENT_MAX * intent_share)
    sentiment_points = round(SENTIMENT_MAX * (analysis.sentiment_score + 1) / 2)
    volume = min(engagement.inbound_messages, 8) / 8
    engagement_points = round(20 * volume) + (10 if engagement.replied_to_agent else 0)
    parts = ScoreParts(
        intent=intent_points,
        sentiment=sentiment_points,
        engagement=engagement_points,
        intent_label=analysis.intent,
        sentiment_label=analysis.sentiment,
        inbound_messages=engagement.inbound_messages,
        replied_to_agent=engagement.replied_to_agent,
    )
    return LeadScore(total=min(100, intent_points + sentiment_points + engagement_points), parts=parts)


def raise_priority(priority: Priority, steps: int = 1) -> Priority:
    index = min(PRIORITY_ORDER.index(priority) + steps, len(PRIORITY_ORDER) - 1)
    return PRIORITY_ORDER[index]


def higher(a: Priority, b: Priority) -> Priority:
    return a if PRIORITY_ORDER.index(a) >= PRIORITY_ORDER.index(b) else b


_BY_URGENCY = {Urgency.LOW: Priority.LOW, Urgency.MEDIUM: Priority.MEDIUM, Urgency.HIGH: Priority.HIGH}


def triage(analysis: Analysis, score: LeadScore, received_at: datetime) -> Triage:
    """Priority and SLA due time of one inbound message."""
    priority = _BY_URGENCY[analysis.urgency]
    reasons = [f"urgency:{analysis.urgency.value}"]
    if analysis.intent is Intent.BILLING_DISPUTE:
        priority = higher(raise_priority(priority), Priority.HIGH)
        reasons.append("billing_dispute")
    if analysis.sentiment is Sentiment.NEGATIVE:
        priority = raise_priority(priority)
        reasons.append("negative_sentiment")
    if score.total >= HOT_LEAD and priority is Priority.LOW:
        priority = Priority.MEDIUM
        reasons.append("hot_lead")
    return Triage(priority=priority, sla_due_at=received_at + SLA[priority], reasons=tuple(reasons))


CANONICAL_SENTIMENT_SCORE = {Sentiment.POSITIVE: 0.6, Sentiment.NEUTRAL: 0.0, Sentiment.NEGATIVE: -0.6}


def with_corrected_labels(analysis: Analysis, sentiment: Sentiment | None, intent: Intent | None) -> Analysis:
    """The analysis as an agent corrected it: a corrected intent is certain, a corrected sentiment
    gets a score of its own sign (the lexicon's magnitude is kept when it already agrees)."""
    update: dict[str, object] = {}
    if intent is not None:
        update.update(intent=intent, intent_confidence=1.0)
    if sentiment is not None and sentiment is not analysis.sentiment:
        update.update(sentiment=sentiment, sentiment_score=CANONICAL_SENTIMENT_SCORE[sentiment])
    return analysis.model_copy(update=update)
