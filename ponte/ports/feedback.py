from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping
from typing import Any

from ponte.domain.feedback import (
    Correction,
    CorrectionRequest,
    MessageAnalysisView,
    ScoredMessage,
    Suggestion,
    SuggestionOutcome,
)
from ponte.domain.scoring import LeadScore, Triage

Claims = Mapping[str, Any]


class FeedbackStore(ABC):
    """Agents' corrections and suggestion outcomes, read and written under the caller's RLS."""

    @abstractmethod
    def message_direction(self, claims: Claims, message_id: str) -> str | None:
        """``"in"`` / ``"out"`` for a message the caller may read; None otherwise."""

    @abstractmethod
    def correct(self, claims: Claims, message_id: str, correction: CorrectionRequest) -> Correction | None:
        """Record (or refine) the caller's correction of a message; None when it is not readable."""

    @abstractmethod
    def scored_message(self, claims: Claims, message_id: str) -> ScoredMessage | None:
        """The stored analysis of a message the caller may read (as the model labelled it)."""

    @abstractmethod
    def rescore(self, claims: Claims, message_id: str, score: LeadScore, triage: Triage) -> None:
        """Store the score and triage recomputed from corrected labels (analysis, lead, conversation)."""

    @abstractmethod
    def analysis_view(self, claims: Claims, message_id: str) -> MessageAnalysisView | None: ...

    @abstractmethod
    def suggestion(self, claims: Claims, suggestion_id: str) -> Suggestion | None: ...

    @abstractmethod
    def decide(self, claims: Claims, suggestion_id: str, outcome: SuggestionOutcome, final_text: str | None) -> bool:
        """Record the outcome by the caller, once: False when it was already decided."""
