"""The analysis contract between the analyze function and the inference worker.

The worker answers ``POST /v1/analyze`` with an :class:`Analysis`; the function
adds the lead score, priority and SLA (``ponte.domain.scoring``) and stores it.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

MAX_TEXT_CHARS = 4000
MAX_REPLY_CHARS = 240
# Below this confidence a label is marked low-confidence: the UI shows "?" and routing may ask a human.
LOW_CONFIDENCE = 0.5


class Sentiment(StrEnum):
    NEGATIVE = "negative"
    NEUTRAL = "neutral"
    POSITIVE = "positive"


class Intent(StrEnum):
    PURCHASE_INTEREST = "purchase_interest"
    SUPPORT_REQUEST = "support_request"
    BILLING_PAYMENT = "billing_payment"
    BILLING_NEGOTIATION = "billing_negotiation"
    BILLING_DISPUTE = "billing_dispute"
    COMPLAINT = "complaint"
    CANCELLATION = "cancellation"
    GREETING = "greeting"
    OTHER = "other"


class Urgency(StrEnum):
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"


class LabeledExample(BaseModel):
    """A tenant's corrected message: joins that tenant's example memory."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    text: str = Field(max_length=MAX_TEXT_CHARS)
    sentiment: Sentiment | None = None
    intent: Intent | None = None


class AnalyzeRequest(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    text: str = Field(max_length=MAX_TEXT_CHARS)
    tenant_id: str | None = None
    examples: tuple[LabeledExample, ...] = ()
    want_reply: bool = True
    contact_name: str | None = None


class Analysis(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    sentiment: Sentiment
    sentiment_score: float = Field(ge=-1.0, le=1.0)
    intent: Intent
    intent_confidence: float = Field(ge=0.0, le=1.0)
    urgency: Urgency
    # the winning sentiment's share of the vote; 1.0 where the source gives none (older workers)
    sentiment_confidence: float = Field(default=1.0, ge=0.0, le=1.0)
    # a label below LOW_CONFIDENCE, or a degraded (rules-only) analysis
    low_confidence: bool = False
    suggested_reply: str | None = Field(default=None, max_length=MAX_REPLY_CHARS)
    reply_source: Literal["llm", "template", "none"] = "none"
    labels_source: str
    model: str
    degraded: bool = False
