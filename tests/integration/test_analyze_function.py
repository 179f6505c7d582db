"""The analyze function on real PostgreSQL: stored analysis, score, priority, SLA, suggestion."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg
import pytest

import functions.app as functions_app
from functions.bootstrap import bootstrap
from ponte.adapters.postgres.db import Database
from ponte.domain.events import Direction
from ponte.domain.realtime import AnalysisPayload, LeadPayload, SuggestionPayload
from ponte.localstack.seed import seed_tenant
from ponte.settings import Settings
from tests.fakes.analysis import FakeAnalyzeQueue, FakeInference
from tests.integration.helpers import envelope, message, sqs_event

pytestmark = pytest.mark.integration

TENANT = "00000000-0000-4000-8000-0000000000a1"
USER = "00000000-0000-4000-8000-0000000000a2"
INSTANCE = "00000000-0000-4000-8000-0000000000a3"
NOW = datetime.now(UTC).replace(microsecond=0)


@dataclass
class Wired:
    db: Database
    queue: FakeAnalyzeQueue
    worker: FakeInference

    def ingest(self, *events: Any) -> None:
        bodies = [envelope(TENANT, INSTANCE, e).model_dump_json() for e in events]
        assert functions_app.ingest_batch(sqs_event(*bodies), None) == {"batchItemFailures": []}

    def run_analyze(self) -> dict[str, Any]:
        jobs, self.queue.jobs = self.queue.jobs, []
        return functions_app.analyze_batch(
            sqs_event(*(j.model_dump_json() for j, _ in jobs), queue="ponte-analyze"), None
        )

    def one(self, sql: str, *params: Any) -> dict[str, Any]:
        with self.db.as_service(TENANT) as conn:
            row = conn.execute(sql, params).fetchone()
        assert row is not None
        return dict(row)


@pytest.fixture
def wired(db_dsn: str) -> Iterator[Wired]:
    with psycopg.connect(db_dsn) as conn:
        seed_tenant(
            conn, tenant_id=TENANT, name="T", user_id=USER, email="a@t.local", instance_id=INSTANCE, webhook_secret="x"
        )
    db = Database(db_dsn, max_size=4)
    queue, worker = FakeAnalyzeQueue(), FakeInference()
    settings = Settings(database_url=db_dsn, breaker_failures=3, analyze_retry_base_seconds=5)
    functions_app.set_container(bootstrap(settings, db=db, analyze_queue=queue, inference=worker))
    try:
        yield Wired(db, queue, worker)
    finally:
        functions_app.set_container(None)
        db.close()


def test_an_inbound_text_ends_as_a_scored_analysis_with_priority_sla_and_suggestion(wired: Wired) -> None:
    wired.ingest(message("M1", text="Quanto custa o vestido azul?", at=NOW))
    assert wired.run_analyze() == {"batchItemFailures": []}
    analysis = wired.one("select * from public.message_analyses")
    assert (analysis["intent"], analysis["sentiment"], analysis["degraded"]) == ("purchase_interest", "positive", False)
    parts = analysis["score_parts"]
    assert analysis["score"] == parts["total"] == parts["intent"] + parts["sentiment"] + parts["engagement"]
    assert (analysis["priority"], analysis["sla_due_at"]) == ("medium", NOW + timedelta(hours=4))
    suggestion = wired.one("select text, source, outcome from public.reply_suggestions")
    assert suggestion == {"text": wired.worker.reply, "source": "template", "outcome": None}
    conversation = wired.one("select priority, sla_due_at from public.conversations")
    assert conversation == {"priority": "medium", "sla_due_at": NOW + timedelta(hours=4)}
    lead = wired.one("select score, priority, score_parts from public.leads")
    assert (lead["score"], lead["priority"]) == (analysis["score"], "medium")


def test_worker_down_stores_degraded_then_the_retry_stores_the_full_analysis(wired: Wired) -> None:
    wired.worker.up = False
    wired.ingest(message("M2", text="Fui cobrado duas vezes, quero estorno", at=NOW))
    wired.run_analyze()
    degraded = wired.one("select degraded, intent, model, priority from public.message_analyses")
    assert degraded == {
        "degraded": True,
        "intent": "billing_dispute",
        "model": "fast-path",
        "priority": degraded["priority"],
    }
    assert degraded["priority"] in ("high", "critical")
    assert wired.one("select count(*) as n from public.reply_suggestions")["n"] == 0
    [(retry, delay)] = wired.queue.jobs
    assert (retry.attempt, delay) == (1, 5)
    # WHEN the worker is back and the delayed job arrives
    wired.worker.up = True
    wired.run_analyze()
    full = wired.one("select degraded, model, attempts from public.message_analyses")
    assert full == {"degraded": False, "model": "fake-model", "attempts": 2}
    assert wired.one("select count(*) as n from public.reply_suggestions")["n"] == 1


def test_an_agents_reply_clears_the_sla_and_a_late_analysis_does_not_reopen_it(wired: Wired) -> None:
    wired.ingest(message("M3", text="oi, tudo bem?", at=NOW))
    wired.ingest(message("M4", text="Oi! Tudo ótimo", direction=Direction.OUTBOUND, at=NOW + timedelta(minutes=1)))
    wired.run_analyze()  # the analysis arrives after the agent answered
    assert wired.one("select sla_due_at from public.conversations")["sla_due_at"] is None
    assert wired.one("select count(*) as n from public.message_analyses")["n"] == 1


def test_chalice_wires_the_analyze_handler_to_its_own_queue() -> None:
    sources = [json.loads(json.dumps(s.__dict__, default=str)) for s in functions_app.app.event_sources]
    analyze = next(s for s in sources if s["queue"] == "ponte-analyze")
    assert analyze["batch_size"] == 2


def test_lead_and_analysis_events_reach_the_tenant_and_conversation_topics(wired: Wired) -> None:
    wired.ingest(message("M5", text="Quero comprar duas unidades", at=NOW))
    wired.run_analyze()
    with wired.db.as_service(TENANT) as conn:
        sent = conn.execute("select topic, event, payload from realtime.messages order by inserted_at").fetchall()
    by_event: dict[str, list[dict[str, Any]]] = {}
    for row in sent:
        by_event.setdefault(row["event"], []).append(row)
    conversation_id = wired.one("select id::text from public.conversations")["id"]
    tenant_topic = f"tenant:{TENANT}"
    [created] = by_event["lead_created"]
    assert created["topic"] == tenant_topic
    assert LeadPayload.model_validate(created["payload"]).source == "organic"
    [scored] = by_event["lead_scored"]
    assert LeadPayload.model_validate(scored["payload"]).score is not None
    ready = by_event["analysis_ready"]
    assert sorted(r["topic"] for r in ready) == sorted([tenant_topic, f"conversation:{conversation_id}"])
    analysis = AnalysisPayload.model_validate(ready[0]["payload"])
    assert analysis.intent == "purchase_interest" and analysis.score_parts.total == analysis.score
    suggestion = SuggestionPayload.model_validate(by_event["suggestion_ready"][0]["payload"])
    assert suggestion.text == wired.worker.reply and suggestion.outcome is None
