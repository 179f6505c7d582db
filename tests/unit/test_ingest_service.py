"""Ingest hands newly stored inbound texts to the analyze queue."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from ponte.domain.analyze_job import AnalyzeJob
from ponte.domain.envelope import IngestEnvelope
from ponte.domain.events import Direction, MessageEvent, MessageKind, Provider
from ponte.domain.identity import identity_from_jid
from ponte.services.ingest import IngestService
from tests.fakes.analysis import FakeAnalyzeQueue
from tests.fakes.ports import FakeStore

pytestmark = pytest.mark.unit


def envelope(mid: str, direction: Direction = Direction.INBOUND) -> IngestEnvelope:
    event = MessageEvent(
        provider=Provider.EVOLUTION,
        instance="demo",
        provider_message_id=mid,
        direction=direction,
        chat=identity_from_jid("5511987650001@s.whatsapp.net"),
        kind=MessageKind.TEXT,
        text="quanto custa?",
        occurred_at=datetime(2026, 1, 1, tzinfo=UTC),
    )
    return IngestEnvelope(tenant_id="t1", instance_id="i1", received_at=datetime(2026, 1, 1, tzinfo=UTC), event=event)


def test_a_new_inbound_text_is_enqueued_once() -> None:
    queue = FakeAnalyzeQueue()
    service = IngestService(FakeStore(), queue)
    first = service.handle(envelope("A"))
    again = service.handle(envelope("A"))
    assert first.analysis_enqueued and not again.analysis_enqueued
    assert queue.jobs == [(AnalyzeJob(tenant_id="t1", message_id="m1"), 0)]


def test_outbound_messages_are_not_analysed() -> None:
    queue = FakeAnalyzeQueue()
    IngestService(FakeStore(), queue).handle(envelope("B", Direction.OUTBOUND))
    assert queue.jobs == []


def test_a_refusing_queue_fails_the_record_so_sqs_redelivers_it() -> None:
    with pytest.raises(ConnectionError):
        IngestService(FakeStore(), FakeAnalyzeQueue(fail=True)).handle(envelope("C"))
