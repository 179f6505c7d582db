"""Corrections and suggestion outcomes on real PostgreSQL, under the caller's RLS."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import psycopg
import pytest

import functions.app as functions_app
from functions.bootstrap import bootstrap
from ponte.adapters.postgres.analysis_store import PgAnalysisStore
from ponte.adapters.postgres.db import Database
from ponte.adapters.postgres.feedback import PgFeedbackStore
from ponte.domain.analysis import Intent, Sentiment
from ponte.domain.events import Direction
from ponte.domain.feedback import SuggestionOutcome
from ponte.localstack.seed import seed_tenant
from ponte.services.exceptions import ConflictError, NotFoundError, UnprocessableError
from ponte.services.feedback import FeedbackService
from ponte.settings import Settings
from tests.fakes.analysis import FakeAnalyzeQueue, FakeInference
from tests.integration.helpers import envelope, message, sqs_event

pytestmark = pytest.mark.integration

TENANT = "00000000-0000-4000-8000-0000000000b1"
AGENT = "00000000-0000-4000-8000-0000000000b2"
INSTANCE = "00000000-0000-4000-8000-0000000000b3"
STRANGER_TENANT = "00000000-0000-4000-8000-0000000000b4"
STRANGER = "00000000-0000-4000-8000-0000000000b5"
AGENT_CLAIMS = {"sub": AGENT, "role": "authenticated"}
STRANGER_CLAIMS = {"sub": STRANGER, "role": "authenticated"}


@dataclass
class World:
    db: Database
    feedback: FeedbackService
    worker: FakeInference
    queue: FakeAnalyzeQueue

    def analysed_message(self, mid: str, text: str = "quanto custa?", direction: Direction = Direction.INBOUND) -> str:
        body = envelope(TENANT, INSTANCE, message(mid, text=text, direction=direction)).model_dump_json()
        functions_app.ingest_batch(sqs_event(body), None)
        jobs, self.queue.jobs = self.queue.jobs, []
        if jobs:
            functions_app.analyze_batch(sqs_event(*(j.model_dump_json() for j, _ in jobs), queue="ponte-analyze"), None)
        with self.db.as_service(TENANT) as conn:
            row = conn.execute("select id::text from public.messages where provider_message_id = %s", (mid,)).fetchone()
        assert row is not None
        return str(row["id"])

    def suggestion_of(self, message_id: str) -> str:
        view = self.feedback.analysis(AGENT_CLAIMS, message_id)
        assert view.suggestion is not None
        return view.suggestion.id


@pytest.fixture
def world(db_dsn: str) -> Iterator[World]:
    with psycopg.connect(db_dsn) as conn:
        seed_tenant(
            conn,
            tenant_id=TENANT,
            name="T",
            user_id=AGENT,
            email="b@t.local",
            role="agent",
            instance_id=INSTANCE,
            webhook_secret="x",
        )
        seed_tenant(conn, tenant_id=STRANGER_TENANT, name="S", user_id=STRANGER, email="s@s.local")
    db = Database(db_dsn, max_size=4)
    queue, worker = FakeAnalyzeQueue(), FakeInference()
    functions_app.set_container(bootstrap(Settings(database_url=db_dsn), db=db, analyze_queue=queue, inference=worker))
    try:
        yield World(db, FeedbackService(PgFeedbackStore(db)), worker, queue)
    finally:
        functions_app.set_container(None)
        db.close()


def test_an_agents_correction_wins_in_the_view_and_joins_the_example_memory(world: World) -> None:
    mid = world.analysed_message("C1", text="tá salgado demais")
    correction = world.feedback.correct(AGENT_CLAIMS, mid, b'{"intent": "billing_negotiation"}')
    assert (correction.intent, correction.sentiment, correction.corrected_by) == (
        Intent.BILLING_NEGOTIATION,
        None,
        AGENT,
    )
    # a second correction refines the first without losing it
    world.feedback.correct(AGENT_CLAIMS, mid, b'{"sentiment": "negative"}')
    view = world.feedback.analysis(AGENT_CLAIMS, mid)
    assert (view.intent, view.sentiment) == (Intent.BILLING_NEGOTIATION, Sentiment.NEGATIVE)
    # AND the next message of the tenant is sent with it as an example
    world.analysed_message("C2", text="outra coisa")
    [example] = world.worker.calls[-1].examples
    assert (example.text, example.intent, example.sentiment) == (
        "tá salgado demais",
        Intent.BILLING_NEGOTIATION,
        Sentiment.NEGATIVE,
    )
    context = PgAnalysisStore(world.db).context(STRANGER_TENANT, mid)
    assert context is None  # another tenant's id never resolves to this message


def test_other_tenants_cannot_correct_or_read(world: World) -> None:
    mid = world.analysed_message("C3")
    with pytest.raises(NotFoundError):
        world.feedback.correct(STRANGER_CLAIMS, mid, b'{"intent": "complaint"}')
    with pytest.raises(NotFoundError):
        world.feedback.analysis(STRANGER_CLAIMS, mid)
    with world.db.as_service(TENANT) as conn:
        assert conn.execute("select count(*) as n from public.analysis_corrections").fetchone()["n"] == 0


@pytest.mark.parametrize(
    ("body", "code"),
    [(b"{}", "invalid_correction"), (b'{"intent": "buy"}', "invalid_correction"), (b'{"x": 1}', "invalid_correction")],
)
def test_bad_corrections_are_rejected_with_a_reason(world: World, body: bytes, code: str) -> None:
    mid = world.analysed_message("C4")
    with pytest.raises(UnprocessableError) as exc:
        world.feedback.correct(AGENT_CLAIMS, mid, body)
    assert exc.value.code == code and exc.value.message


def test_outbound_messages_cannot_be_corrected(world: World) -> None:
    mid = world.analysed_message("C5", direction=Direction.OUTBOUND)
    with pytest.raises(UnprocessableError) as exc:
        world.feedback.correct(AGENT_CLAIMS, mid, b'{"intent": "complaint"}')
    assert exc.value.code == "not_analysable"


def test_a_decision_is_recorded_once(world: World) -> None:
    sid = world.suggestion_of(world.analysed_message("S3"))
    assert world.feedback.discard(AGENT_CLAIMS, sid, b'{"outcome": "discarded"}') is SuggestionOutcome.DISCARDED
    with pytest.raises(ConflictError):
        world.feedback.discard(AGENT_CLAIMS, sid, b'{"outcome": "discarded"}')
    with pytest.raises(NotFoundError):
        world.feedback.discard(STRANGER_CLAIMS, world.suggestion_of(world.analysed_message("S4")), None)


def test_agents_cannot_rewrite_a_stored_suggestion(world: World) -> None:
    sid = world.suggestion_of(world.analysed_message("S5"))
    with world.db.as_user(AGENT_CLAIMS) as conn, pytest.raises(psycopg.errors.InsufficientPrivilege):
        conn.execute("update public.reply_suggestions set text = 'forjado' where id = %s", (sid,))


def test_a_tenants_corrections_stay_in_its_own_example_memory(world: World, db_dsn: str) -> None:
    mid = world.analysed_message("C9", text="tá salgado demais")
    world.feedback.correct(AGENT_CLAIMS, mid, b'{"intent": "billing_negotiation"}')
    stranger_instance = "00000000-0000-4000-8000-0000000000b6"
    with psycopg.connect(db_dsn) as conn:
        seed_tenant(
            conn,
            tenant_id=STRANGER_TENANT,
            name="S",
            user_id=STRANGER,
            email="s@s.local",
            instance_id=stranger_instance,
            webhook_secret="y",
        )
    body = envelope(STRANGER_TENANT, stranger_instance, message("Z1", text="tá salgado demais")).model_dump_json()
    functions_app.ingest_batch(sqs_event(body), None)
    [(job, _)] = world.queue.jobs
    functions_app.analyze_batch(sqs_event(job.model_dump_json(), queue="ponte-analyze"), None)
    assert world.worker.calls[-1].tenant_id == STRANGER_TENANT
    assert world.worker.calls[-1].examples == ()


def test_a_correction_rescores_the_message_its_lead_and_conversation(world: World) -> None:
    # GIVEN a message the model took for a purchase, scored and triaged accordingly
    mid = world.analysed_message("R1", text="vocês cobraram meu cartão duas vezes")
    before = world.feedback.analysis(AGENT_CLAIMS, mid)
    assert before.score_parts.intent_label == "purchase_interest" and before.priority == "medium"
    # WHEN the agent corrects it to an angry billing dispute
    world.feedback.correct(AGENT_CLAIMS, mid, b'{"intent": "billing_dispute", "sentiment": "negative"}')
    # THEN the score follows the corrected labels and explains itself with them
    after = world.feedback.analysis(AGENT_CLAIMS, mid)
    assert after.score_parts.intent_label == "billing_dispute" and after.score_parts.intent == 0
    assert after.score < before.score and after.priority == "critical"
    with world.db.as_service(TENANT) as conn:
        lead = conn.execute("select score, priority from public.leads").fetchone()
        conversation = conn.execute("select priority from public.conversations").fetchone()
    assert (lead["score"], lead["priority"]) == (after.score, "critical")
    assert conversation["priority"] == "critical"


def test_an_unsure_analysis_is_shown_unsure_until_an_agent_corrects_it(world: World) -> None:
    # GIVEN the worker is unsure of a message's labels
    world.worker.low_confidence = True
    mid = world.analysed_message("U1", text="hmm e aquilo lá?")
    with world.db.as_service(TENANT) as conn:
        stored = conn.execute(
            "select sentiment_confidence, low_confidence from public.message_analyses where message_id = %s", (mid,)
        ).fetchone()
    # THEN the mark is stored and shown
    assert (round(stored["sentiment_confidence"], 2), stored["low_confidence"]) == (0.4, True)
    assert world.feedback.analysis(AGENT_CLAIMS, mid).low_confidence
    # WHEN an agent corrects it, THEN it is no longer unsure
    world.feedback.correct(AGENT_CLAIMS, mid, b'{"intent": "support_request"}')
    assert not world.feedback.analysis(AGENT_CLAIMS, mid).low_confidence
