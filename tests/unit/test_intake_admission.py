"""Bounded work per instance at the edge: the per-instance event bucket (429 + Retry-After) and the
bulk lane that keeps large bodies off the queue the ordinary webhooks use."""

from __future__ import annotations

import pytest

from ponte.domain.envelope import IngestEnvelope
from ponte.ports.queue import EventQueue
from ponte.services.intake import IntakeService
from ponte.services.lanes import IngestLanes
from ponte.services.rate_limit import InstanceRateLimiter
from proxy import providers
from tests.fakes.ports import FakeClock, FakeDiagnostics, FakeInstances, FakePrivacy, FakeQueue
from tests.unit.test_intake_hostile_bodies import evolution_batch, text_body
from tests.unit.test_intake_service import INSTANCE, request

pytestmark = pytest.mark.unit


class Ticks:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_a_bucket_admits_until_in_debt_and_says_when_to_come_back() -> None:
    ticks = Ticks()
    limiter = InstanceRateLimiter(rate=10, burst=20, monotonic=ticks)
    assert limiter.retry_after("a") is None
    limiter.charge("a", 45)  # one large body may overdraw: it was admitted whole
    assert limiter.retry_after("a") == 3  # 25 in debt + 1 token, at 10 per second
    assert limiter.retry_after("b") is None  # another instance is not affected
    ticks.now += 2.0
    assert limiter.retry_after("a") == 1
    ticks.now += 1.0
    assert limiter.retry_after("a") is None
    ticks.now += 3600
    limiter.charge("a", 0)  # every body costs at least one event
    assert limiter.retry_after("a") is None


def test_full_buckets_are_forgotten_when_too_many_instances_are_tracked() -> None:
    ticks = Ticks()
    limiter = InstanceRateLimiter(rate=1, burst=5, monotonic=ticks, max_tracked=3)
    for key in ("a", "b", "c"):
        limiter.charge(key, 1)
    limiter.charge("a", 10)
    ticks.now += 4  # b and c have refilled; a is still in debt
    limiter.charge("d", 1)
    assert limiter.retry_after("a") is not None


def make(limiter: InstanceRateLimiter, queue: EventQueue) -> tuple[IntakeService, FakeDiagnostics]:
    diagnostics = FakeDiagnostics()
    service = IntakeService(
        instances=FakeInstances(INSTANCE),
        normalize=lambda p, payload, inst: providers.normalize(p, payload, instance=inst),
        queue=queue,
        diagnostics=diagnostics,
        privacy=FakePrivacy(),
        clock=FakeClock(),
        limiter=limiter,
    )
    return service, diagnostics


def test_an_instance_in_debt_is_answered_429_with_retry_after_before_its_body_is_read() -> None:
    ticks = Ticks()
    queue = FakeQueue()
    service, diagnostics = make(InstanceRateLimiter(rate=5, burst=10, monotonic=ticks), queue)
    assert service.handle(request(evolution_batch(30))).body["outcome"] == "accepted"
    refused = service.handle(request(b"[" * 100_000))  # not even parsed
    assert refused.status_code == 429
    assert refused.body["code"] == "rate_limited"
    assert refused.headers == {"Retry-After": "5"}
    assert [e.status_code for e in diagnostics.entries] == [200, 429]
    assert len(queue.published) == 30
    ticks.now += 5
    assert service.handle(request(text_body(message_id="later"))).status_code == 200


class Lane(FakeQueue):
    def __init__(self) -> None:
        super().__init__()
        self.calls: list[int] = []

    def publish(self, envelopes: list[IngestEnvelope]) -> None:  # type: ignore[override]
        self.calls.append(len(envelopes))
        super().publish(envelopes)


def test_bodies_with_many_events_take_the_bulk_lane() -> None:
    live, bulk = Lane(), Lane()
    service, _ = make(InstanceRateLimiter(rate=1000, burst=10_000, monotonic=Ticks()), IngestLanes(live, bulk))
    service.handle(request(text_body()))
    service.handle(request(evolution_batch(19)))
    service.handle(request(evolution_batch(20)))
    assert (live.calls, bulk.calls) == ([1, 19], [20])


def test_without_a_bulk_queue_everything_takes_the_live_lane() -> None:
    live = Lane()
    service, _ = make(InstanceRateLimiter(rate=1000, burst=10_000, monotonic=Ticks()), IngestLanes(live, None))
    service.handle(request(evolution_batch(50)))
    assert live.calls == [50]
