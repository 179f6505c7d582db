"""The SQS adapters send through one group commit: requests publishing at the same time share
SendMessageBatch calls, each returns only once SQS took its messages, and an error reaches every
request whose messages were not sent (moto's SQS in process)."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber
from moto import mock_aws

from ponte.adapters.exceptions import QueuePublishError
from ponte.adapters.sqs import SqsAnalyzeQueue, SqsEventQueue
from ponte.domain.analyze_job import AnalyzeJob
from ponte.domain.envelope import IngestEnvelope, decode_envelopes
from ponte.domain.events import Direction, MessageEvent, MessageKind, Provider
from ponte.domain.identity import identity_from_jid

pytestmark = pytest.mark.unit

TENANT = "00000000-0000-4000-8000-00000000d501"


@pytest.fixture
def sqs(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    # a local stack started earlier in this process points boto3 at its endpoint
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    with mock_aws():
        yield boto3.client("sqs", region_name="us-east-1")


def envelope(n: int, tenant: str = TENANT) -> IngestEnvelope:
    event = MessageEvent(
        provider=Provider.EVOLUTION,
        instance="t",
        provider_message_id=f"S{n}",
        direction=Direction.INBOUND,
        chat=identity_from_jid("5511987650001@s.whatsapp.net"),
        kind=MessageKind.TEXT,
        text="oi",
        occurred_at=datetime(2026, 12, 1, tzinfo=UTC),
    )
    return IngestEnvelope(tenant_id=tenant, instance_id=tenant, received_at=event.occurred_at, event=event)


def drain(sqs: Any, url: str) -> list[str]:
    bodies: list[str] = []
    while True:
        got = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages") or []
        if not got:
            return bodies
        bodies += [m["Body"] for m in got]
        sqs.delete_message_batch(
            QueueUrl=url, Entries=[{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(got)]
        )


def count_calls(sqs: Any) -> list[int]:
    calls: list[int] = []
    sqs.meta.events.register(
        "provide-client-params.sqs.SendMessageBatch", lambda **kw: calls.append(len(kw["params"]["Entries"]))
    )
    return calls


def test_concurrent_publishers_share_batches_and_every_message_arrives(sqs: Any) -> None:
    url = sqs.create_queue(QueueName="ingest")["QueueUrl"]
    queue, calls = SqsEventQueue(url, sqs), count_calls(sqs)
    # each call takes a network's few milliseconds: requests arriving meanwhile wait for the next one
    sqs.meta.events.register("before-send.sqs.SendMessageBatch", lambda **kw: time.sleep(0.02))
    barrier = threading.Barrier(40)

    def publish(n: int) -> None:
        barrier.wait(10)
        queue.publish([envelope(n)])

    threads = [threading.Thread(target=publish, args=(n,)) for n in range(40)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    bodies = drain(sqs, url)
    ids = sorted(getattr(e.event, "provider_message_id", "") for body in bodies for e in decode_envelopes(body))
    assert ids == sorted(f"S{n}" for n in range(40))
    assert max(calls) <= 10
    # callers that arrived while a call was in flight went together, one tenant's in shared messages
    assert len(calls) < 40 and len(bodies) < 40


def test_two_tenants_never_share_a_message(sqs: Any) -> None:
    url = sqs.create_queue(QueueName="ingest")["QueueUrl"]
    other = "00000000-0000-4000-8000-00000000d502"
    queue = SqsEventQueue(url, sqs)
    sqs.meta.events.register("before-send.sqs.SendMessageBatch", lambda **kw: time.sleep(0.05))
    threads = [
        threading.Thread(target=queue.publish, args=([envelope(n, TENANT if n % 2 else other)],)) for n in range(12)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    bodies = drain(sqs, url)
    assert sum(len(decode_envelopes(body)) for body in bodies) == 12
    assert all(len({e.tenant_id for e in decode_envelopes(body)}) == 1 for body in bodies)


def test_an_sqs_error_reaches_the_caller_and_nothing_is_acknowledged(sqs: Any) -> None:
    url = sqs.create_queue(QueueName="ingest")["QueueUrl"]
    sqs.delete_queue(QueueUrl=url)
    with pytest.raises(sqs.exceptions.QueueDoesNotExist):
        SqsEventQueue(url, sqs).publish([envelope(1)])


def test_a_message_sqs_refuses_fails_its_caller_only(sqs: Any) -> None:
    url = sqs.create_queue(QueueName="ingest")["QueueUrl"]
    with Stubber(sqs) as stub:  # SQS answers the call but refuses one entry
        stub.add_response(
            "send_message_batch",
            {
                "Successful": [{"Id": "0", "MessageId": "m0", "MD5OfMessageBody": "x"}],
                "Failed": [{"Id": "1", "SenderFault": False, "Code": "InternalError"}],
            },
        )
        queue = SqsAnalyzeQueue(url, sqs)
        jobs = [AnalyzeJob(tenant_id=TENANT, message_id="a"), AnalyzeJob(tenant_id=TENANT, message_id="b")]
        with pytest.raises(QueuePublishError, match="1 message"):
            queue.enqueue_many(jobs)


def test_analyze_jobs_go_out_ten_per_call(sqs: Any) -> None:
    url = sqs.create_queue(QueueName="analyze")["QueueUrl"]
    calls = count_calls(sqs)
    SqsAnalyzeQueue(url, sqs).enqueue_many([AnalyzeJob(tenant_id=TENANT, message_id=str(n)) for n in range(23)])
    assert calls == [10, 10, 3]
    assert len(drain(sqs, url)) == 23
