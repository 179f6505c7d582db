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
from ponte.adapters.sqs import SqsAnalyzeQueue, SqsEventQueue, SqsSender
from ponte.domain.analyze_job import AnalyzeJob
from ponte.domain.envelope import IngestEnvelope, decode_envelopes
from ponte.domain.events import Direction, MessageEvent, MessageKind, Provider
from ponte.domain.identity import identity_from_jid

pytestmark = pytest.mark.unit

TENANT = "00000000-0000-4000-8000-00000000d501"


@pytest.fixture
def sqs() -> Iterator[Any]:
    with mock_aws():
        yield boto3.client("sqs", region_name="us-east-1")


def envelope(n: int) -> IngestEnvelope:
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
    return IngestEnvelope(tenant_id=TENANT, instance_id=TENANT, received_at=event.occurred_at, event=event)


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
    ids = sorted(
        getattr(e.event, "provider_message_id", "") for body in drain(sqs, url) for e in decode_envelopes(body)
    )
    assert ids == sorted(f"S{n}" for n in range(40))
    assert sum(calls) == 40 and max(calls) <= 10
    assert len(calls) < 40  # callers that arrived while a call was in flight went together


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
        sender = SqsSender(url, sqs)
        with pytest.raises(QueuePublishError, match="1 of 2"):
            sender.send([{"MessageBody": "a"}, {"MessageBody": "b"}])


def test_analyze_jobs_go_out_ten_per_call(sqs: Any) -> None:
    url = sqs.create_queue(QueueName="analyze")["QueueUrl"]
    calls = count_calls(sqs)
    SqsAnalyzeQueue(url, sqs).enqueue_many([AnalyzeJob(tenant_id=TENANT, message_id=str(n)) for n in range(23)])
    assert calls == [10, 10, 3]
    assert len(drain(sqs, url)) == 23
