"""Ingest: store canonical events idempotently (contact, conversation, message, lead) and hand
every newly stored inbound text to the analyze queue, its own queue so that slow inference
never delays ingestion. Connection and QR events feed the instance's session recovery. Every
newly stored message is signalled to the lifecycle queue (one job per conversation per unit of
work): the conversation's state, clocks and automation run there, never in this transaction.
Newly stored inbound messages go to the campaign queue as well (replies and opt-outs)."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Protocol

from ponte.domain.analyze_job import AnalyzeJob
from ponte.domain.campaign_job import CampaignJob, inbound_jobs
from ponte.domain.envelope import IngestEnvelope
from ponte.domain.events import ConnectionEvent, MessageEvent, QrEvent
from ponte.domain.lifecycle_job import LifecycleJob, MessageSignal
from ponte.domain.media import FETCHED_KINDS, MediaJob
from ponte.ports.analysis import AnalyzeJobQueue
from ponte.ports.campaigns import CampaignQueue
from ponte.ports.lifecycle import LifecycleQueue
from ponte.ports.media import MediaJobQueue
from ponte.ports.store import IngestStore, SavedMessage

logger = logging.getLogger(__name__)

# How long an ack, revoke or edit waits for the message it overtook. SQS retries a failed ingest
# for minutes (maxReceiveCount 5) and a DLQ redrive takes an operator hours at most: a day covers both.
PENDING_MAX_AGE = timedelta(days=1)


class SessionObserver(Protocol):
    def on_event(self, instance_id: str, event: ConnectionEvent | QrEvent) -> str: ...


@dataclass(frozen=True)
class IngestResult:
    stored: bool
    kind: str
    lead_created: bool = False
    analysis_enqueued: bool = False


@dataclass
class _AfterCommit:
    """What a unit of work hands on once its transaction committed (never before: an analyze job
    must find its message)."""

    jobs: list[AnalyzeJob] = field(default_factory=list)
    sessions: list[tuple[str, ConnectionEvent | QrEvent]] = field(default_factory=list)
    # (tenant, conversation) -> the messages this unit stored there, for the lifecycle
    lifecycle: dict[tuple[str, str], list[MessageSignal]] = field(default_factory=dict)

    def signal(self, tenant_id: str, saved: SavedMessage) -> None:
        if not saved.stored or saved.conversation_id is None or saved.message_id is None:
            return
        if saved.occurred_at is None or saved.kind is None:
            return
        signal = MessageSignal(
            message_id=saved.message_id, inbound=saved.inbound, kind=saved.kind, occurred_at=saved.occurred_at
        )
        self.lifecycle.setdefault((tenant_id, saved.conversation_id), []).append(signal)

    def campaign_jobs(self) -> list[CampaignJob]:
        """The unit's newly stored inbound messages, per tenant, for the campaigns (replies, opt-outs)."""
        by_tenant: dict[str, list[str]] = {}
        for (tenant, _), signals in self.lifecycle.items():
            by_tenant.setdefault(tenant, []).extend(s.message_id for s in signals if s.inbound)
        return [job for tenant, ids in by_tenant.items() if ids for job in inbound_jobs(tenant, ids)]

    def lifecycle_jobs(self) -> list[LifecycleJob]:
        return [
            LifecycleJob(kind="messages", tenant_id=tenant, conversation_id=conversation, messages=tuple(signals))
            for (tenant, conversation), signals in self.lifecycle.items()
        ]

    media: list[MediaJob] = field(default_factory=list)  # newly stored media messages: fetch their files


class IngestService:
    def __init__(
        self,
        store: IngestStore,
        analyze_queue: AnalyzeJobQueue | None = None,
        sessions: SessionObserver | None = None,
        lifecycle_queue: LifecycleQueue | None = None,
        media_queue: MediaJobQueue | None = None,
        *,
        campaign_queue: CampaignQueue | None = None,
    ) -> None:
        self._media_queue = media_queue
        self._store = store
        self._analyze_queue = analyze_queue
        self._sessions = sessions
        self._lifecycle_queue = lifecycle_queue
        self._campaign_queue = campaign_queue

    def expire_pending(self, max_age: timedelta = PENDING_MAX_AGE) -> dict[str, int]:
        """What waited too long for its message (acks, revokes, edits that overtook it) is dropped."""
        return self._store.expire_pending(max_age)

    def handle(self, envelope: IngestEnvelope) -> IngestResult:
        (result,) = self.handle_batch(envelope.tenant_id, [envelope])
        return result

    def handle_batch(self, tenant_id: str, envelopes: Sequence[IngestEnvelope]) -> list[IngestResult]:
        """The events of one tenant (a queue batch) as one unit of work: one transaction, then the
        analyze jobs and session events once it committed. All or nothing: when it raises, nothing
        of the batch is stored, and the caller stores the events one by one to isolate the bad one."""
        if any(envelope.tenant_id != tenant_id for envelope in envelopes):
            raise ValueError("an ingest batch holds one tenant's events")
        saved = self._store.save_batch(tenant_id, envelopes)
        after = _AfterCommit()
        results = [self._follow_up(envelope, one, after) for envelope, one in zip(envelopes, saved, strict=True)]
        self._run(after)
        return results

    def _run(self, after: _AfterCommit) -> None:
        """What follows a commit. Raises when the analyze queue refuses: the queue message fails,
        SQS redelivers it, and the stored-but-unanalysed message is enqueued on that redelivery."""
        for instance_id, session_event in after.sessions:
            if self._sessions is not None:
                self._sessions.on_event(instance_id, session_event)
        self._signal_lifecycle(after)
        if self._media_queue is not None:
            for media_job in after.media:
                self._media_queue.enqueue(media_job)
        self._signal_campaigns(after)
        if after.jobs and self._analyze_queue is None:
            logger.warning("no analyze queue configured: message stored without analysis")
            return
        if after.jobs:
            assert self._analyze_queue is not None
            self._analyze_queue.enqueue_many(after.jobs)

    def _signal_lifecycle(self, after: _AfterCommit) -> None:
        """One lifecycle job per conversation of the unit. A refused publish is logged, not raised:
        a redelivery would find the messages stored (duplicates signal nothing), and the lifecycle's
        timers route a conversation left with the automation."""
        if self._lifecycle_queue is None or not after.lifecycle:
            return
        try:
            self._lifecycle_queue.publish(after.lifecycle_jobs())
        except Exception:
            logger.warning("lifecycle queue refused %d jobs", len(after.lifecycle))

    def _signal_campaigns(self, after: _AfterCommit) -> None:
        """The newly stored inbound messages to the campaign queue (one job per tenant of the unit,
        message ids only): replies are attributed and opt-outs take effect there. Logged, not raised,
        when refused, as for the lifecycle (a redelivery finds the messages stored and signals nothing)."""
        if self._campaign_queue is None or not after.lifecycle:
            return
        jobs = after.campaign_jobs()
        if not jobs:
            return
        try:
            self._campaign_queue.publish(jobs)
        except Exception:
            logger.warning("campaign queue refused %d inbound jobs", len(jobs))

    def _follow_up(self, envelope: IngestEnvelope, saved: SavedMessage, after: _AfterCommit) -> IngestResult:
        """What one stored event hands on after the commit, and what storing it did."""
        event = envelope.event
        if isinstance(event, ConnectionEvent | QrEvent):
            # the session state machine (gateway ops) consumes them
            after.sessions.append((envelope.instance_id, event))
        if isinstance(event, MessageEvent):
            after.signal(envelope.tenant_id, saved)
            if (
                saved.stored
                and saved.message_id is not None
                and event.media is not None
                and event.kind in FETCHED_KINDS
            ):
                after.media.append(MediaJob(tenant_id=envelope.tenant_id, message_id=saved.message_id))
        enqueued = False
        if saved.needs_analysis and saved.message_id is not None:
            after.jobs.append(AnalyzeJob(tenant_id=envelope.tenant_id, message_id=saved.message_id))
            enqueued = self._analyze_queue is not None
        return IngestResult(
            stored=saved.stored, kind=event.type, lead_created=saved.lead_id is not None, analysis_enqueued=enqueued
        )
