"""Agents' feedback: corrected labels (they join the tenant's example memory) and what became
of a reply suggestion (recorded when the agent sends, or discards it). Suggestions are never
sent by Ponte itself."""

from __future__ import annotations

import uuid
from typing import Any

from pydantic import ValidationError

from ponte.domain.feedback import (
    Correction,
    CorrectionRequest,
    DiscardRequest,
    MessageAnalysisView,
    Suggestion,
    SuggestionOutcome,
)
from ponte.domain.scoring import lead_score, triage, with_corrected_labels
from ponte.ports.feedback import Claims, FeedbackStore
from ponte.services.exceptions import ConflictError, NotFoundError, UnprocessableError
from ponte.services.json_body import parse_json_body


def _uuid_or_404(value: str, what: str) -> str:
    try:
        return str(uuid.UUID(value))
    except ValueError as exc:
        raise NotFoundError(f"{what} not found") from exc


def _json(body: bytes | None) -> Any:
    return parse_json_body(body or b"{}")


def _reason(exc: ValidationError) -> str:
    first = exc.errors()[0]
    where = ".".join(str(p) for p in first.get("loc", ())) or "body"
    return f"{where}: {first.get('msg', 'invalid')}"


class FeedbackService:
    def __init__(self, store: FeedbackStore) -> None:
        self._store = store

    def correct(self, claims: Claims, message_id: str, body: bytes | None) -> Correction:
        message_id = _uuid_or_404(message_id, "message")
        try:
            request = CorrectionRequest.model_validate(_json(body))
        except ValidationError as exc:
            raise UnprocessableError(_reason(exc), code="invalid_correction") from exc
        direction = self._store.message_direction(claims, message_id)
        if direction is None:
            raise NotFoundError("message not found")
        if direction != "in":
            raise UnprocessableError("only the customer's messages are analysed", code="not_analysable")
        correction = self._store.correct(claims, message_id, request)
        if correction is None:
            raise NotFoundError("message not found")
        self._rescore(claims, message_id, correction)
        return correction

    def _rescore(self, claims: Claims, message_id: str, correction: Correction) -> None:
        """The score, its parts, priority and SLA follow the corrected labels, so the UI explains
        the score with the labels it shows."""
        scored = self._store.scored_message(claims, message_id)
        if scored is None:  # not analysed yet: the analysis will read the correction as an example
            return
        analysis = with_corrected_labels(scored.analysis, correction.sentiment, correction.intent)
        score = lead_score(analysis, scored.engagement)
        self._store.rescore(claims, message_id, score, triage(analysis, score, scored.received_at))

    def analysis(self, claims: Claims, message_id: str) -> MessageAnalysisView:
        view = self._store.analysis_view(claims, _uuid_or_404(message_id, "message"))
        if view is None:
            raise NotFoundError("no analysis for this message")
        return view

    def discard(self, claims: Claims, suggestion_id: str, body: bytes | None) -> SuggestionOutcome:
        try:
            DiscardRequest.model_validate(_json(body))
        except ValidationError as exc:
            raise UnprocessableError(_reason(exc), code="invalid_outcome") from exc
        suggestion = self._pending(claims, suggestion_id)
        if not self._store.decide(claims, suggestion.id, SuggestionOutcome.DISCARDED, None):
            raise ConflictError("the suggestion was already decided", code="already_decided")
        return SuggestionOutcome.DISCARDED

    def _pending(self, claims: Claims, suggestion_id: str) -> Suggestion:
        suggestion = self._store.suggestion(claims, _uuid_or_404(suggestion_id, "suggestion"))
        if suggestion is None:
            raise NotFoundError("suggestion not found")
        if suggestion.outcome is not None:
            raise ConflictError("the suggestion was already decided", code="already_decided")
        return suggestion
