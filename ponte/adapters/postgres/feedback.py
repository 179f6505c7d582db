"""Corrections and suggestion outcomes under the caller's row-level security."""

from __future__ import annotations

from typing import Any

from ponte.adapters.postgres.db import Database
from ponte.domain.feedback import (
    Correction,
    CorrectionRequest,
    MessageAnalysisView,
    Suggestion,
    SuggestionOutcome,
)
from ponte.ports.feedback import Claims, FeedbackStore

_CORRECT = """
insert into public.analysis_corrections (tenant_id, message_id, sentiment, intent, corrected_by)
select m.tenant_id, m.id, %(sentiment)s, %(intent)s, (select auth.uid()) from public.messages m where m.id = %(id)s
on conflict (message_id) do update set
  sentiment = coalesce(excluded.sentiment, public.analysis_corrections.sentiment),
  intent = coalesce(excluded.intent, public.analysis_corrections.intent),
  corrected_by = excluded.corrected_by, updated_at = now()
returning message_id::text, sentiment, intent, corrected_by::text, updated_at
"""

_VIEW = """
select a.message_id::text, a.sentiment, a.intent, a.urgency, a.degraded, a.score, a.score_parts, a.priority,
  a.sla_due_at,
  s.id::text as s_id, s.text as s_text, s.source as s_source, s.outcome as s_outcome, s.final_text as s_final,
  c.sentiment as c_sentiment, c.intent as c_intent, c.corrected_by::text as c_by, c.updated_at as c_at
from public.message_analyses a
left join public.reply_suggestions s on s.message_id = a.message_id
left join public.analysis_corrections c on c.message_id = a.message_id
where a.message_id = %s
"""

_SUGGESTION = (
    "select id::text, message_id::text, text, source, outcome, final_text from public.reply_suggestions where id = %s"
)

_DECIDE = """
update public.reply_suggestions set outcome = %s, final_text = %s, decided_by = (select auth.uid()), decided_at = now()
where id = %s and outcome is null
returning id
"""


class PgFeedbackStore(FeedbackStore):
    def __init__(self, db: Database) -> None:
        self._db = db

    def message_direction(self, claims: Claims, message_id: str) -> str | None:
        with self._db.as_user(claims) as conn:
            row = conn.execute("select direction from public.messages where id = %s", (message_id,)).fetchone()
        return row["direction"] if row else None

    def correct(self, claims: Claims, message_id: str, correction: CorrectionRequest) -> Correction | None:
        params = {
            "id": message_id,
            "sentiment": correction.sentiment.value if correction.sentiment else None,
            "intent": correction.intent.value if correction.intent else None,
        }
        with self._db.as_user(claims) as conn:
            row = conn.execute(_CORRECT, params).fetchone()
        return Correction.model_validate(row) if row else None

    def analysis_view(self, claims: Claims, message_id: str) -> MessageAnalysisView | None:
        with self._db.as_user(claims) as conn:
            row = conn.execute(_VIEW, (message_id,)).fetchone()
        if row is None:
            return None
        return MessageAnalysisView(
            message_id=row["message_id"],
            sentiment=row["c_sentiment"] or row["sentiment"],
            intent=row["c_intent"] or row["intent"],
            urgency=row["urgency"],
            degraded=row["degraded"],
            score=row["score"],
            score_parts=row["score_parts"],
            priority=row["priority"],
            sla_due_at=row["sla_due_at"],
            suggestion=_suggestion(row),
            correction=_correction(row),
        )

    def suggestion(self, claims: Claims, suggestion_id: str) -> Suggestion | None:
        with self._db.as_user(claims) as conn:
            row = conn.execute(_SUGGESTION, (suggestion_id,)).fetchone()
        return Suggestion.model_validate(row) if row else None

    def decide(self, claims: Claims, suggestion_id: str, outcome: SuggestionOutcome, final_text: str | None) -> bool:
        with self._db.as_user(claims) as conn:
            row = conn.execute(_DECIDE, (outcome.value, final_text, suggestion_id)).fetchone()
        return row is not None


def _suggestion(row: dict[str, Any]) -> Suggestion | None:
    if row["s_id"] is None:
        return None
    return Suggestion(
        id=row["s_id"],
        message_id=row["message_id"],
        text=row["s_text"],
        source=row["s_source"],
        outcome=row["s_outcome"],
        final_text=row["s_final"],
    )


def _correction(row: dict[str, Any]) -> Correction | None:
    if row["c_at"] is None:
        return None
    return Correction(
        message_id=row["message_id"],
        sentiment=row["c_sentiment"],
        intent=row["c_intent"],
        corrected_by=row["c_by"],
        updated_at=row["c_at"],
    )
