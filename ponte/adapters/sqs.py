"""SQS adapters of the event queue and the analyze queue (boto3; AWS_ENDPOINT_URL points it at moto locally).

Messages go out through ``SqsSender``: ``SendMessageBatch`` calls of up to 10 messages, shared by
the requests that publish at the same time (a group commit): while one call is in flight, the
messages of the requests that arrive meanwhile wait and go together in the next one, and ingest
envelopes of one tenant share a message (a JSON array, up to 24 KiB). An idle process sends at
once; a busy one makes one call per hundreds of webhooks instead of one per webhook. Each request
still returns only once SQS has taken every one of its messages.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import boto3

from ponte.adapters.exceptions import QueuePublishError
from ponte.domain.analyze_job import AnalyzeJob
from ponte.domain.campaign_job import CampaignJob
from ponte.domain.envelope import IngestEnvelope
from ponte.domain.lifecycle_job import LifecycleJob
from ponte.domain.media import MediaJob
from ponte.ports.analysis import AnalyzeJobQueue
from ponte.ports.campaigns import CampaignQueue
from ponte.ports.lifecycle import LifecycleQueue
from ponte.ports.media import MediaJobQueue
from ponte.ports.queue import EventQueue

_BATCH = 10
# SendMessageBatch takes 10 messages and 256 KiB in all: messages of at most 24 KiB each.
_MESSAGE_BYTES = 24 * 1024


@dataclass
class _Submission:
    """One caller's messages and what became of them."""

    units: list[_Unit]
    done: threading.Event = field(default_factory=threading.Event)
    failed: int = 0
    error: BaseException | None = None


@dataclass(frozen=True)
class _Unit:
    """A message's content: a JSON text, and whether it may share a message with others of its
    group (ingest envelopes: a message body is a JSON array of them)."""

    text: str
    group: str | None = None
    packable: bool = False
    delay: int | None = None


@dataclass
class _Message:
    entry: dict[str, Any]
    owners: set[int]  # indexes of the submissions whose units it carries


class SqsSender:
    """Sends units to one queue, grouping concurrent callers' into ``SendMessageBatch`` calls;
    packable units of one group travel together in messages of up to 24 KiB."""

    def __init__(self, queue_url: str, client: Any | None = None) -> None:
        self._url = queue_url
        self._client = client or boto3.client("sqs")
        self._lock = threading.Lock()
        self._waiting: list[_Submission] = []
        self._sending = False

    def send(self, units: list[_Unit]) -> None:
        """Returns once SQS took every unit; raises ``QueuePublishError`` (or the client's error)
        when it did not."""
        if not units:
            return
        mine = _Submission(units)
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
            raise QueuePublishError(f"{mine.failed} message(s) of this request not accepted by SQS")

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
        messages = _messages(batch)
        start = 0
        try:
            for start in range(0, len(messages), _BATCH):
                chunk = messages[start : start + _BATCH]
                entries: list[Any] = [{**m.entry, "Id": str(i)} for i, m in enumerate(chunk)]
                response = self._client.send_message_batch(QueueUrl=self._url, Entries=entries)
                for failure in response.get("Failed") or []:
                    for owner in chunk[int(failure["Id"])].owners:
                        batch[owner].failed += 1
        except BaseException as exc:  # the client's error reaches every caller with a message not sent
            for message in messages[start:]:
                for owner in message.owners:
                    batch[owner].error = batch[owner].error or exc
        finally:
            for submission in batch:
                submission.done.set()


def _messages(batch: list[_Submission]) -> list[_Message]:
    """The queue messages for a batch of submissions: packable units joined per group into JSON
    arrays of at most ``_MESSAGE_BYTES`` (a unit larger than that travels alone), others alone."""
    messages: list[_Message] = []
    packs: dict[str | None, tuple[list[str], set[int], int]] = {}

    def close(group: str | None) -> None:
        texts, owners, _ = packs.pop(group)
        messages.append(_Message(_entry("[" + ",".join(texts) + "]", group, None), owners))

    for n, submission in enumerate(batch):
        for unit in submission.units:
            if not unit.packable:
                messages.append(_Message(_entry(unit.text, unit.group, unit.delay), {n}))
                continue
            size = len(unit.text.encode()) + 1
            texts, owners, used = packs.get(unit.group, ([], set(), 2))
            if texts and used + size > _MESSAGE_BYTES:
                close(unit.group)
                texts, owners, used = [], set(), 2
            texts.append(unit.text)
            owners.add(n)
            packs[unit.group] = (texts, owners, used + size)
    for group in list(packs):
        close(group)
    return messages


def _entry(body: str, group: str | None, delay: int | None) -> dict[str, Any]:
    entry: dict[str, Any] = {"MessageBody": body}
    if group is not None:
        entry["MessageGroupId"] = group
    if delay is not None:
        entry["DelaySeconds"] = delay
    return entry


class SqsEventQueue(EventQueue):
    def __init__(self, queue_url: str, client: Any | None = None) -> None:
        self._sender = SqsSender(queue_url, client)

    def publish(self, envelopes: Sequence[IngestEnvelope]) -> None:
        # The tenant is the message group: on an SQS fair queue one tenant's backlog does not
        # lengthen the others' dwell time (a standard queue otherwise ignores the group). The
        # envelopes of requests publishing at once share messages when they are one tenant's.
        self._sender.send(
            [_Unit(envelope.model_dump_json(), envelope.tenant_id, packable=True) for envelope in envelopes]
        )


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
        self._sender = SqsSender(queue_url, client)

    def enqueue(self, job: AnalyzeJob, *, delay_seconds: int = 0) -> None:
        self.enqueue_many([job], delay_seconds=delay_seconds)

    def enqueue_many(self, jobs: Sequence[AnalyzeJob], *, delay_seconds: int = 0) -> None:
        delay = max(0, min(900, delay_seconds))
        self._sender.send([_Unit(job.model_dump_json(), delay=delay) for job in jobs])


class SqsLifecycleQueue(LifecycleQueue):
    """The lifecycle queue: one message per job, the tenant as its group, sent through the group
    commit (the ingest batches of concurrent receivers share SendMessageBatch calls)."""

    def __init__(self, queue_url: str, client: Any | None = None) -> None:
        self._sender = SqsSender(queue_url, client)

    def publish(self, jobs: list[LifecycleJob]) -> None:
        self._sender.send([_Unit(job.model_dump_json(), job.tenant_id) for job in jobs])


class SqsCampaignQueue(CampaignQueue):
    """The campaign queue: send jobs delayed to their slot (``DelaySeconds``, at most 900 s) and
    inbound jobs, through the shared ``SendMessageBatch`` sender."""

    def __init__(self, queue_url: str, client: Any | None = None) -> None:
        self._sender = SqsSender(queue_url, client)

    def publish(self, jobs: Sequence[CampaignJob], *, delays: Sequence[int] | None = None) -> None:
        waits = list(delays) if delays is not None else [0] * len(jobs)
        self._sender.send(
            [_Unit(job.model_dump_json(), delay=max(0, min(900, int(w)))) for job, w in zip(jobs, waits, strict=True)]
        )
