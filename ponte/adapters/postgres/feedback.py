"""Corrections and suggestion outcomes under the caller's row-level security."""

from __future__ import annotations

from typing import Any

from psycopg.types.json import Jsonb

from ponte.adapters.postgres.analysis_store import score_parts_json, update_conversation, update_lead
from ponte.adapters.postgres.db import Database
from ponte.domain.analysis import Analysis
from ponte.domain.feedback import (
    Correction,
    CorrectionRequest,
    MessageAnalysisView,
    ScoredMessage,
    Suggestion,
    SuggestionOutcome,
)
from ponte.domain.scoring import Engagement, LeadScore, Triage
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
  a.sla_due_at, a.low_confidence,
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


_SCORED = """
select a.tenant_id::text, a.conversation_id::text, a.lead_id::text, a.sentiment, a.sentiment_score, a.intent,
  a.intent_confidence, a.urgency, a.labels_source, a.model, a.degraded, a.score_parts,
  least(m.occurred_at, m.created_at) as received_at
from public.message_analyses a join public.messages m on m.id = a.message_id
where a.message_id = %s
"""

_RESCORE = """
update public.message_analyses set score = %s, score_parts = %s, priority = %s, sla_due_at = %s, updated_at = now()
where message_id = %s
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

    def _scored_row(self, claims: Claims, message_id: str) -> dict[str, Any] | None:
        with self._db.as_user(claims) as conn:
            row: dict[str, Any] | None = conn.execute(_SCORED, (message_id,)).fetchone()
        return row

    def scored_message(self, claims: Claims, message_id: str) -> ScoredMessage | None:
        row = self._scored_row(claims, message_id)
        if row is None:
            return None
        parts = row["score_parts"] or {}
        return ScoredMessage(
            analysis=Analysis(
                sentiment=row["sentiment"],
                sentiment_score=row["sentiment_score"],
                intent=row["intent"],
                intent_confidence=row["intent_confidence"],
                urgency=row["urgency"],
                labels_source=row["labels_source"],
                model=row["model"],
                degraded=row["degraded"],
            ),
            engagement=Engagement(
                inbound_messages=int(parts.get("inbound_messages", 1)),
                outbound_messages=0,
                replied_to_agent=bool(parts.get("replied_to_agent", False)),
            ),
            received_at=row["received_at"],
        )

    def rescore(self, claims: Claims, message_id: str, score: LeadScore, triage: Triage) -> None:
        # read under the caller's RLS, written as the service (members do not write analyses)
        row = self._scored_row(claims, message_id)
        if row is None:
            return
        with self._db.as_service(row["tenant_id"]) as conn:
            conn.execute(
                _RESCORE,
                (
                    score.total,
                    Jsonb(score_parts_json(score, triage)),
                    triage.priority.value,
                    triage.sla_due_at,
                    message_id,
                ),
            )
            update_conversation(conn, row["conversation_id"], triage, row["received_at"])
            if row["lead_id"] is not None:
                update_lead(conn, row["lead_id"], score, triage)

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
            # an agent's correction is certain
            low_confidence=row["low_confidence"] and row["c_sentiment"] is None and row["c_intent"] is None,
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
