"""The analyze service over fakes: full analysis, degraded path, breaker, retries, idempotency."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from ponte.domain.analysis import Analysis, AnalyzeRequest, Intent, LabeledExample, Sentiment
from ponte.domain.analysis_record import AnalysisContext
from ponte.domain.analyze_job import AnalyzeJob
from ponte.domain.breaker import Breaker, BreakerState
from ponte.domain.scoring import Engagement, Priority
from ponte.services.analyze import AnalyzeService, RetryPolicy
from tests.fakes.analysis import FakeAnalysisStore, FakeAnalyzeQueue, FakeInference, RulesOnlyLabeler
from tests.fakes.ports import FakeClock

pytestmark = pytest.mark.unit

TENANT = "t1"
AT = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)


def ctx(message_id: str, text: str, examples: tuple[LabeledExample, ...] = ()) -> AnalysisContext:
    return AnalysisContext(
        tenant_id=TENANT,
        message_id=message_id,
        conversation_id="c1",
        lead_id="l1",
        text=text,
        received_at=AT,
        engagement=Engagement(inbound_messages=1, outbound_messages=0),
        examples=examples,
    )


def service(
    store: FakeAnalysisStore, inference: FakeInference | None, queue: FakeAnalyzeQueue, clock: FakeClock | None = None
) -> AnalyzeService:
    return AnalyzeService(
        store=store,
        inference=inference,
        fast=RulesOnlyLabeler(),
        queue=queue,
        breaker=Breaker(failure_threshold=2, reset_after=60),
        retry=RetryPolicy(max_attempts=3, base_delay_seconds=10),
        clock=clock or FakeClock(),
    )


def test_worker_up_stores_the_full_analysis_with_score_priority_sla_and_suggestion() -> None:
    store, queue, worker = FakeAnalysisStore(ctx("m1", "quanto custa?")), FakeAnalyzeQueue(), FakeInference()
    outcome = service(store, worker, queue).handle(AnalyzeJob(tenant_id=TENANT, message_id="m1"))
    assert outcome.status == "analyzed"
    [record] = store.saved
    assert record.analysis.suggested_reply == worker.reply and not record.analysis.degraded
    assert (
        record.score.total == record.score.parts.intent + record.score.parts.sentiment + record.score.parts.engagement
    )
    assert (record.triage.priority, record.triage.sla_due_at) == (Priority.MEDIUM, AT + timedelta(hours=4))
    assert queue.jobs == []


def test_the_tenants_examples_travel_with_the_request() -> None:
    example = LabeledExample(text="tá salgado", intent=Intent.BILLING_NEGOTIATION, sentiment=Sentiment.NEGATIVE)
    store, worker = FakeAnalysisStore(ctx("m1", "oi", (example,))), FakeInference()
    service(store, worker, FakeAnalyzeQueue()).handle(AnalyzeJob(tenant_id=TENANT, message_id="m1"))
    assert worker.calls[0].examples == (example,) and worker.calls[0].tenant_id == TENANT


def test_worker_down_stores_a_degraded_analysis_now_and_schedules_the_full_one() -> None:
    store, queue = FakeAnalysisStore(ctx("m1", "Fui cobrado duas vezes, quero estorno")), FakeAnalyzeQueue()
    worker = FakeInference(up=False)
    outcome = service(store, worker, queue).handle(AnalyzeJob(tenant_id=TENANT, message_id="m1"))
    assert (outcome.status, outcome.reason, outcome.retry_in_seconds) == ("degraded", "worker_unavailable", 10)
    [record] = store.saved
    assert record.analysis.degraded and record.analysis.suggested_reply is None
    assert record.analysis.intent is Intent.BILLING_DISPUTE
    assert record.triage.priority in (Priority.HIGH, Priority.CRITICAL)
    assert queue.jobs == [(AnalyzeJob(tenant_id=TENANT, message_id="m1", attempt=1), 10)]


def test_the_retry_replaces_the_degraded_analysis_once_the_worker_is_back() -> None:
    store, queue, worker = FakeAnalysisStore(ctx("m1", "quero comprar")), FakeAnalyzeQueue(), FakeInference(up=False)
    svc = service(store, worker, queue)
    svc.handle(AnalyzeJob(tenant_id=TENANT, message_id="m1"))
    worker.up = True
    retry, _ = queue.jobs[0]
    assert svc.handle(retry).status == "analyzed"
    assert [r.analysis.degraded for r in store.saved] == [True, False]
    # a late duplicate job does not call the worker again
    calls = len(worker.calls)
    assert svc.handle(retry).reason == "already_analyzed" and len(worker.calls) == calls


def test_the_breaker_opens_and_spares_the_worker_until_the_reset_period() -> None:
    contexts = [ctx(f"m{i}", "oi") for i in range(5)]
    store, queue, worker, clock = FakeAnalysisStore(*contexts), FakeAnalyzeQueue(), FakeInference(up=False), FakeClock()
    svc = service(store, worker, queue, clock)
    reasons = [svc.handle(AnalyzeJob(tenant_id=TENANT, message_id=f"m{i}")).reason for i in range(4)]
    assert reasons == ["worker_unavailable", "worker_unavailable", "circuit_open", "circuit_open"]
    assert len(worker.calls) == 2
    assert svc.breaker.state is BreakerState.OPEN
    # WHEN the reset period has passed and the worker is back, one trial closes the breaker
    worker.up = True
    clock.advance(61)
    assert svc.handle(AnalyzeJob(tenant_id=TENANT, message_id="m4")).status == "analyzed"
    state_after_trial: BreakerState = svc.breaker.state  # a fresh read: mypy narrowed the earlier one
    assert state_after_trial is BreakerState.CLOSED


def test_retries_back_off_and_give_up_keeping_the_degraded_analysis() -> None:
    store, queue = FakeAnalysisStore(ctx("m1", "oi")), FakeAnalyzeQueue()
    svc = service(store, FakeInference(up=False), queue)
    delays = [svc.handle(AnalyzeJob(tenant_id=TENANT, message_id="m1", attempt=a)).retry_in_seconds for a in range(4)]
    assert delays == [10, 20, 40, None]


def test_no_worker_configured_degrades_without_retrying() -> None:
    store, queue = FakeAnalysisStore(ctx("m1", "oi")), FakeAnalyzeQueue()
    outcome = service(store, None, queue).handle(AnalyzeJob(tenant_id=TENANT, message_id="m1"))
    assert (outcome.status, outcome.reason, queue.jobs) == ("degraded", "no_worker_configured", [])


def test_a_purged_message_is_skipped() -> None:
    outcome = service(FakeAnalysisStore(), FakeInference(), FakeAnalyzeQueue()).handle(
        AnalyzeJob(tenant_id=TENANT, message_id="gone")
    )
    assert (outcome.status, outcome.reason) == ("skipped", "message_gone")


class DegradedWorker(FakeInference):
    def analyze(self, request: AnalyzeRequest) -> Analysis:
        return super().analyze(request).model_copy(update={"degraded": True})


def test_a_degraded_answer_from_the_worker_is_stored_and_asked_again_later() -> None:
    store, queue = FakeAnalysisStore(ctx("m1", "oi")), FakeAnalyzeQueue()
    outcome = service(store, DegradedWorker(), queue).handle(AnalyzeJob(tenant_id=TENANT, message_id="m1"))
    assert (outcome.status, outcome.reason, outcome.retry_in_seconds) == ("degraded", "worker_degraded", 10)
    assert store.saved[0].analysis.labels_source == "fake"
