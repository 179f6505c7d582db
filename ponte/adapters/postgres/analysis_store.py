"""Reads a message's analysis context and stores its analysis in one transaction: the analysis,
the suggestion for the agent, the lead's score and the conversation's priority and SLA."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import psycopg
from psycopg.types.json import Jsonb

from ponte.adapters.postgres.db import Database
from ponte.domain.analysis import MAX_TEXT_CHARS, LabeledExample
from ponte.domain.analysis_record import AnalysisContext, AnalysisRecord
from ponte.domain.scoring import Engagement, LeadScore, StoredScoreParts, Triage
from ponte.ports.analysis import AnalysisStore

EXAMPLE_MEMORY = 64  # the tenant's newest corrections sent with each request

_CONTEXT = """
select m.id::text as message_id, m.tenant_id::text as tenant_id, m.conversation_id::text as conversation_id,
  m.body, least(m.occurred_at, m.created_at) as received_at, ct.display_name,
  (select l.id::text from public.leads l where l.tenant_id = m.tenant_id and l.contact_id = m.contact_id) as lead_id,
  exists (select 1 from public.message_analyses a where a.message_id = m.id and not a.degraded) as has_full,
  (select count(*) from public.messages x
    where x.conversation_id = m.conversation_id and x.direction = 'in' and x.occurred_at <= m.occurred_at) as inbound,
  (select count(*) from public.messages x
    where x.conversation_id = m.conversation_id and x.direction = 'out' and x.occurred_at < m.occurred_at) as outbound
from public.messages m join public.contacts ct on ct.id = m.contact_id
where m.id = %s and m.tenant_id = %s and m.direction = 'in' and m.kind = 'text'
"""

_EXAMPLES = """
select m.body as text, c.sentiment, c.intent from public.analysis_corrections c
join public.messages m on m.id = c.message_id
where c.tenant_id = %s and m.body is not null
order by c.updated_at desc limit %s
"""

_UPSERT_ANALYSIS = """
insert into public.message_analyses (tenant_id, message_id, conversation_id, lead_id, sentiment, sentiment_score,
  intent, intent_confidence, urgency, labels_source, model, degraded, score, score_parts, priority, sla_due_at,
  sentiment_confidence, low_confidence)
values (%(tenant_id)s, %(message_id)s, %(conversation_id)s, %(lead_id)s, %(sentiment)s, %(sentiment_score)s,
  %(intent)s, %(intent_confidence)s, %(urgency)s, %(labels_source)s, %(model)s, %(degraded)s, %(score)s,
  %(score_parts)s, %(priority)s, %(sla_due_at)s, %(sentiment_confidence)s, %(low_confidence)s)
on conflict (message_id) do update set
  lead_id = excluded.lead_id, sentiment = excluded.sentiment, sentiment_score = excluded.sentiment_score,
  intent = excluded.intent, intent_confidence = excluded.intent_confidence, urgency = excluded.urgency,
  labels_source = excluded.labels_source, model = excluded.model, degraded = excluded.degraded,
  score = excluded.score, score_parts = excluded.score_parts, priority = excluded.priority,
  sla_due_at = excluded.sla_due_at, sentiment_confidence = excluded.sentiment_confidence,
  low_confidence = excluded.low_confidence, attempts = public.message_analyses.attempts + 1, updated_at = now()
where public.message_analyses.degraded  -- a full analysis is never replaced
returning id::text as id
"""

_SUGGESTION = """
insert into public.reply_suggestions (tenant_id, message_id, conversation_id, analysis_id, text, source, model)
values (%s, %s, %s, %s, %s, %s, %s)
on conflict (message_id) do update set text = excluded.text, source = excluded.source, model = excluded.model,
  analysis_id = excluded.analysis_id
where public.reply_suggestions.outcome is null  -- an agent's decision is never overwritten
"""

# The conversation keeps the most urgent pending SLA. None is set when an agent already answered
# after this message (a late full analysis must not reopen a conversation that was answered).
_CONVERSATION = """
update public.conversations c set
  priority = case when c.sla_due_at is null
    or array_position(%(order)s::text[], %(priority)s) > array_position(%(order)s::text[], c.priority)
    then %(priority)s else c.priority end,
  sla_due_at = case when c.sla_due_at is null then %(due)s else least(c.sla_due_at, %(due)s) end
where c.id = %(conversation_id)s
  and not exists (select 1 from public.messages o
    where o.conversation_id = c.id and o.direction = 'out' and o.occurred_at > %(received_at)s)
"""

_LEAD = """
update public.leads set score = %s, score_parts = %s, priority = %s, scored_at = now(), updated_at = now()
where id = %s
"""

PRIORITY_ORDER = ["low", "medium", "high", "critical"]


def score_parts_json(score: LeadScore, triage: Triage) -> dict[str, Any]:
    """The score's parts as the UI explains them, with the triage reasons."""
    parts = StoredScoreParts(**score.parts.model_dump(), total=score.total, triage=tuple(triage.reasons))
    return parts.model_dump(mode="json")


def update_conversation(
    conn: psycopg.Connection[Any], conversation_id: str, triage: Triage, received_at: datetime
) -> None:
    conn.execute(
        _CONVERSATION,
        {
            "order": PRIORITY_ORDER,
            "priority": triage.priority.value,
            "due": triage.sla_due_at,
            "conversation_id": conversation_id,
            "received_at": received_at,
        },
    )


def update_lead(conn: psycopg.Connection[Any], lead_id: str, score: LeadScore, triage: Triage) -> None:
    conn.execute(_LEAD, (score.total, Jsonb(score_parts_json(score, triage)), triage.priority.value, lead_id))


class PgAnalysisStore(AnalysisStore):
    def __init__(self, db: Database, *, example_memory: int = EXAMPLE_MEMORY) -> None:
        self._db = db
        self._example_memory = example_memory

    def context(self, tenant_id: str, message_id: str) -> AnalysisContext | None:
        with self._db.as_service(tenant_id) as conn:
            row = conn.execute(_CONTEXT, (message_id, tenant_id)).fetchone()
            if row is None or not (row["body"] or "").strip():
                return None
            examples = self._examples(conn, tenant_id)
        return AnalysisContext(
            tenant_id=row["tenant_id"],
            message_id=row["message_id"],
            conversation_id=row["conversation_id"],
            lead_id=row["lead_id"],
            text=row["body"],
            received_at=row["received_at"],
            contact_name=row["display_name"],
            engagement=Engagement(
                inbound_messages=row["inbound"],
                outbound_messages=row["outbound"],
                replied_to_agent=row["outbound"] > 0 and row["inbound"] > 1,
            ),
            has_full_analysis=row["has_full"],
            examples=examples,
        )

    def _examples(self, conn: psycopg.Connection[Any], tenant_id: str) -> tuple[LabeledExample, ...]:
        rows = conn.execute(_EXAMPLES, (tenant_id, self._example_memory)).fetchall()
        return tuple(
            LabeledExample(text=r["text"][:MAX_TEXT_CHARS], sentiment=r["sentiment"], intent=r["intent"]) for r in rows
        )

    def save(self, record: AnalysisRecord) -> bool:
        ctx, analysis, triage = record.context, record.analysis, record.triage
        with self._db.as_service(ctx.tenant_id) as conn:
            row = conn.execute(
                _UPSERT_ANALYSIS,
                {
                    "tenant_id": ctx.tenant_id,
                    "message_id": ctx.message_id,
                    "conversation_id": ctx.conversation_id,
                    "lead_id": ctx.lead_id,
                    "sentiment": analysis.sentiment.value,
                    "sentiment_score": analysis.sentiment_score,
                    "intent": analysis.intent.value,
                    "intent_confidence": analysis.intent_confidence,
                    "urgency": analysis.urgency.value,
                    "labels_source": analysis.labels_source,
                    "model": analysis.model,
                    "degraded": analysis.degraded,
                    "score": record.score.total,
                    "score_parts": Jsonb(score_parts_json(record.score, triage)),
                    "priority": triage.priority.value,
                    "sla_due_at": triage.sla_due_at,
                    "sentiment_confidence": analysis.sentiment_confidence,
                    "low_confidence": analysis.low_confidence,
                },
            ).fetchone()
            if row is None:
                return False
            if analysis.suggested_reply and analysis.reply_source != "none":
                conn.execute(
                    _SUGGESTION,
                    (
                        ctx.tenant_id,
                        ctx.message_id,
                        ctx.conversation_id,
                        row["id"],
                        analysis.suggested_reply,
                        analysis.reply_source,
                        analysis.model,
                    ),
                )
            update_conversation(conn, ctx.conversation_id, triage, ctx.received_at)
            if ctx.lead_id is not None:
                update_lead(conn, ctx.lead_id, record.score, triage)
        return True
