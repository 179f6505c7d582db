"""What the analyze use case reads about a message and what it stores."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict

from ponte.domain.analysis import Analysis, LabeledExample
from ponte.domain.scoring import Engagement, LeadScore, Triage


class AnalysisContext(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    tenant_id: str
    message_id: str
    conversation_id: str
    lead_id: str | None
    text: str
    received_at: datetime
    contact_name: str | None = None
    engagement: Engagement
    has_full_analysis: bool = False
    # the tenant's corrected messages (its example memory), newest first
    examples: tuple[LabeledExample, ...] = ()


class AnalysisRecord(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    context: AnalysisContext
    analysis: Analysis
    score: LeadScore
    triage: Triage
    attempt: int = 0
