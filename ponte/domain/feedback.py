"""What agents tell Ponte about its analyses: corrected labels and what became of a suggestion."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field, model_validator

from ponte.domain.analysis import Analysis, Intent, Sentiment
from ponte.domain.scoring import Engagement, StoredScoreParts


class CorrectionRequest(BaseModel):
    """``POST /messages/{id}/analysis/correction``: at least one label."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    sentiment: Sentiment | None = None
    intent: Intent | None = None

    @model_validator(mode="after")
    def _at_least_one(self) -> CorrectionRequest:
        if self.sentiment is None and self.intent is None:
            raise ValueError("give a sentiment, an intent or both")
        return self


class Correction(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    message_id: str
    sentiment: Sentiment | None
    intent: Intent | None
    corrected_by: str | None
    updated_at: datetime


class ScoredMessage(BaseModel):
    """A stored analysis with what re-scoring it needs."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    analysis: Analysis
    engagement: Engagement
    received_at: datetime


class SuggestionOutcome(StrEnum):
    AS_IS = "as_is"
    EDITED = "edited"
    DISCARDED = "discarded"


class Suggestion(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str
    message_id: str
    text: str
    source: str
    outcome: SuggestionOutcome | None = None
    final_text: str | None = None


class MessageAnalysisView(BaseModel):
    """What the agent's UI shows for one message: the analysis, its score parts, the suggestion,
    and the agent's correction (the labels that count are the corrected ones)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    message_id: str
    sentiment: Sentiment
    intent: Intent
    urgency: str
    degraded: bool
    # the labels are unsure (the UI shows "?"); false once an agent corrected them
    low_confidence: bool = False
    score: int
    score_parts: StoredScoreParts
    priority: str
    sla_due_at: datetime
    suggestion: Suggestion | None = None
    correction: Correction | None = None


class DiscardRequest(BaseModel):
    """``POST /suggestions/{id}/outcome`` from the UI: sent outcomes are recorded at send time."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    outcome: SuggestionOutcome = Field(default=SuggestionOutcome.DISCARDED)

    @model_validator(mode="after")
    def _discard_only(self) -> DiscardRequest:
        if self.outcome is not SuggestionOutcome.DISCARDED:
            raise ValueError("as_is and edited are recorded when the message is sent")
        return self


def outcome_of(suggested: str, final_text: str) -> SuggestionOutcome:
    """``as_is`` when the sent text is the suggestion (whitespace aside), ``edited`` otherwise."""
    same = " ".join(suggested.split()) == " ".join(final_text.split())
    return SuggestionOutcome.AS_IS if same else SuggestionOutcome.EDITED
