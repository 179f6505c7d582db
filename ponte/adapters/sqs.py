"""SQS adapters of the event queue and the analyze queue (boto3; AWS_ENDPOINT_URL points it at moto locally)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import boto3

from ponte.adapters.exceptions import QueuePublishError
from ponte.domain.analyze_job import AnalyzeJob
from ponte.domain.envelope import IngestEnvelope, pack_envelopes
from ponte.domain.lifecycle_job import LifecycleJob
from ponte.domain.media import MediaJob
from ponte.ports.analysis import AnalyzeJobQueue
from ponte.ports.lifecycle import LifecycleQueue
from ponte.ports.media import MediaJobQueue
from ponte.ports.queue import EventQueue

_BATCH = 10
# SendMessageBatch takes 10 messages and 256 KiB in all: messages of at most 24 KiB each.
_MESSAGE_BYTES = 24 * 1024


class SqsEventQueue(EventQueue):
    def __init__(self, queue_url: str, client: Any | None = None) -> None:
        self._url = queue_url
        self._client = client or boto3.client("sqs")

    def publish(self, envelopes: Sequence[IngestEnvelope]) -> None:
        # The tenant is the message group: on an SQS fair queue one tenant's backlog does not
        # lengthen the others' dwell time (a standard queue otherwise ignores the group).
        by_tenant: dict[str, list[IngestEnvelope]] = {}
        for envelope in envelopes:
            by_tenant.setdefault(envelope.tenant_id, []).append(envelope)
        messages = [(t, body) for t, group in by_tenant.items() for body in pack_envelopes(group, _MESSAGE_BYTES)]
        for start in range(0, len(messages), _BATCH):
            chunk = messages[start : start + _BATCH]
            entries: list[Any] = [
                {"Id": str(i), "MessageBody": body, "MessageGroupId": tenant} for i, (tenant, body) in enumerate(chunk)
            ]
            response = self._client.send_message_batch(QueueUrl=self._url, Entries=entries)
            failed = response.get("Failed") or []
            if failed:
                raise QueuePublishError(f"{len(failed)} of {len(entries)} messages not accepted by SQS")


class SqsMediaQueue(MediaJobQueue):
    """The media queue: one fetch job per stored media message."""

    def __init__(self, queue_url: str, client: Any | None = None) -> None:
        self._url = queue_url
        self._client = client or boto3.client("sqs")

    def enqueue(self, job: MediaJob) -> None:
        self._client.send_message(QueueUrl=self._url, MessageBody=job.model_dump_json())


class SqsAnalyzeQueue(AnalyzeJobQueue):
    """The analyze queue; a delayed job (SQS ``DelaySeconds``, at most 900 s) is the later full analysis."""

    def __init__(self, queue_url: str, client: Any | None = None) -> None:
        self._url = queue_url
        self._client = client or boto3.client("sqs")

    def enqueue(self, job: AnalyzeJob, *, delay_seconds: int = 0) -> None:
        self._client.send_message(
            QueueUrl=self._url, MessageBody=job.model_dump_json(), DelaySeconds=max(0, min(900, delay_seconds))
        )


class SqsLifecycleQueue(LifecycleQueue):
    """The lifecycle queue: jobs in batches of ten (one SendMessageBatch per ten jobs)."""

    def __init__(self, queue_url: str, client: Any | None = None) -> None:
        self._url = queue_url
        self._client = client or boto3.client("sqs")

    def publish(self, jobs: list[LifecycleJob]) -> None:
        for start in range(0, len(jobs), _BATCH):
            chunk = jobs[start : start + _BATCH]
            entries: list[Any] = [
                {"Id": str(i), "MessageBody": job.model_dump_json(), "MessageGroupId": job.tenant_id}
                for i, job in enumerate(chunk)
            ]
            response = self._client.send_message_batch(QueueUrl=self._url, Entries=entries)
            failed = response.get("Failed") or []
            if failed:
                raise QueuePublishError(f"{len(failed)} of {len(entries)} lifecycle jobs not accepted by SQS")
