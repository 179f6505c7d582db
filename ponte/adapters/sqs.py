"""SQS adapters of the event queue and the analyze queue (boto3; AWS_ENDPOINT_URL points it at moto locally).

Messages go out through ``SqsSender``: ``SendMessageBatch`` calls of up to 10 messages, shared by
the requests that publish at the same time (a group commit): while one call is in flight, the
messages of the requests that arrive meanwhile wait and go together in the next one. An idle
process sends at once; a busy one makes one call per 10 messages instead of one per request.
Each request still returns only once SQS has taken every one of its messages.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import boto3

from ponte.adapters.exceptions import QueuePublishError
from ponte.domain.analyze_job import AnalyzeJob
from ponte.domain.envelope import IngestEnvelope, pack_envelopes
from ponte.ports.analysis import AnalyzeJobQueue
from ponte.ports.queue import EventQueue

_BATCH = 10
# SendMessageBatch takes 10 messages and 256 KiB in all: messages of at most 24 KiB each.
_MESSAGE_BYTES = 24 * 1024


@dataclass
class _Submission:
    """One caller's messages and what became of them."""

    entries: list[dict[str, Any]]
    done: threading.Event = field(default_factory=threading.Event)
    failed: int = 0
    error: BaseException | None = None


class SqsSender:
    """Sends message entries (``MessageBody`` and optional ``MessageGroupId`` / ``DelaySeconds``)
    to one queue, grouping concurrent callers' entries into ``SendMessageBatch`` calls."""

    def __init__(self, queue_url: str, client: Any | None = None) -> None:
        self._url = queue_url
        self._client = client or boto3.client("sqs")
        self._lock = threading.Lock()
        self._waiting: list[_Submission] = []
        self._sending = False

    def send(self, entries: list[dict[str, Any]]) -> None:
        """Returns once SQS took every entry; raises ``QueuePublishError`` (or the client's error)
        when it did not."""
        if not entries:
            return
        mine = _Submission(entries)
        with self._lock:
            self._waiting.append(mine)
            lead = not self._sending
            if lead:
                self._sending = True
        if lead:
            self._drain()
        mine.done.wait()
        if mine.error is not None:
            raise mine.error
        if mine.failed:
            raise QueuePublishError(f"{mine.failed} of {len(entries)} messages not accepted by SQS")

    def _drain(self) -> None:
        """The leader sends what waits, then what arrived meanwhile, until nothing waits."""
        while True:
            with self._lock:
                batch, self._waiting = self._waiting, []
                if not batch:
                    self._sending = False
                    return
            self._send_all(batch)

    def _send_all(self, batch: list[_Submission]) -> None:
        owned = [(submission, entry) for submission in batch for entry in submission.entries]
        start = 0
        try:
            for start in range(0, len(owned), _BATCH):
                chunk = owned[start : start + _BATCH]
                entries: list[Any] = [{**entry, "Id": str(i)} for i, (_, entry) in enumerate(chunk)]
                response = self._client.send_message_batch(QueueUrl=self._url, Entries=entries)
                for failure in response.get("Failed") or []:
                    chunk[int(failure["Id"])][0].failed += 1
        except BaseException as exc:  # the client's error reaches every caller with an entry not sent
            for submission, _ in owned[start:]:
                submission.error = submission.error or exc
        finally:
            for submission in batch:
                submission.done.set()


class SqsEventQueue(EventQueue):
    def __init__(self, queue_url: str, client: Any | None = None) -> None:
        self._sender = SqsSender(queue_url, client)

    def publish(self, envelopes: Sequence[IngestEnvelope]) -> None:
        # The tenant is the message group: on an SQS fair queue one tenant's backlog does not
        # lengthen the others' dwell time (a standard queue otherwise ignores the group).
        by_tenant: dict[str, list[IngestEnvelope]] = {}
        for envelope in envelopes:
            by_tenant.setdefault(envelope.tenant_id, []).append(envelope)
        self._sender.send(
            [
                {"MessageBody": body, "MessageGroupId": tenant}
                for tenant, group in by_tenant.items()
                for body in pack_envelopes(group, _MESSAGE_BYTES)
            ]
        )


class SqsAnalyzeQueue(AnalyzeJobQueue):
    """The analyze queue; a delayed job (SQS ``DelaySeconds``, at most 900 s) is the later full analysis."""

    def __init__(self, queue_url: str, client: Any | None = None) -> None:
        self._sender = SqsSender(queue_url, client)

    def enqueue(self, job: AnalyzeJob, *, delay_seconds: int = 0) -> None:
        self.enqueue_many([job], delay_seconds=delay_seconds)

    def enqueue_many(self, jobs: Sequence[AnalyzeJob], *, delay_seconds: int = 0) -> None:
        delay = max(0, min(900, delay_seconds))
        self._sender.send([{"MessageBody": job.model_dump_json(), "DelaySeconds": delay} for job in jobs])
