"""Analyze: label an inbound message, score its lead, set priority and SLA, store a suggestion.

The worker is called through a circuit breaker. When it is unavailable (down, slow,
overloaded, or the breaker is open) a degraded analysis from the fast path is stored at
once, with no reply suggestion, and the job is re-enqueued with a delay so the full
analysis replaces it later. Suggestions are stored for the agent, never sent.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass

from ponte.domain.analysis import MAX_TEXT_CHARS, Analysis, AnalyzeRequest
from ponte.domain.analysis_record import AnalysisContext, AnalysisRecord
from ponte.domain.analyze_job import AnalyzeJob, retry_delay_seconds
from ponte.domain.breaker import Breaker
from ponte.domain.lifecycle_job import LifecycleJob
from ponte.domain.scoring import lead_score, triage
from ponte.ports.analysis import (
    AnalysisStore,
    AnalyzeJobQueue,
    FastLabeler,
    InferenceClient,
    InferenceUnavailableError,
)
from ponte.ports.clock import Clock
from ponte.ports.lifecycle import LifecycleQueue

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class RetryPolicy:
    max_attempts: int = 8  # full-analysis attempts after the first; then the degraded one stays
    base_delay_seconds: int = 30
    max_delay_seconds: int = 900


@dataclass(frozen=True)
class AnalyzeOutcome:
    status: str  # "analyzed" | "degraded" | "skipped"
    reason: str | None = None
    retry_in_seconds: int | None = None
    record: AnalysisRecord | None = None


class AnalyzeService:
    def __init__(
        self,
        *,
        store: AnalysisStore,
        inference: InferenceClient | None,
        fast: FastLabeler,
        queue: AnalyzeJobQueue | None,
        breaker: Breaker | None = None,
        retry: RetryPolicy | None = None,
        clock: Clock | None = None,
        lifecycle: LifecycleQueue | None = None,
    ) -> None:
        self._lifecycle = lifecycle
        self._store = store
        self._inference = inference
        self._fast = fast
        self._queue = queue
        self._breaker = breaker or Breaker()
        self._retry = retry or RetryPolicy()
        self._clock = clock or Clock()
        self._lock = threading.Lock()  # the breaker is shared by the batch's records and the pollers

    @property
    def breaker(self) -> Breaker:
        return self._breaker

    def handle(self, job: AnalyzeJob) -> AnalyzeOutcome:
        context = self._store.context(job.tenant_id, job.message_id)
        if context is None:
            return AnalyzeOutcome("skipped", "message_gone")
        if context.has_full_analysis:
            return AnalyzeOutcome("skipped", "already_analyzed")
        request = AnalyzeRequest(
            text=context.text[:MAX_TEXT_CHARS],
            tenant_id=context.tenant_id,
            examples=context.examples,
            want_reply=True,
            contact_name=context.contact_name,
        )
        analysis, reason = self._full(request)
        if analysis is None:
            analysis = self._fast.label(request)
        record = self._record(context, analysis, job.attempt)
        if self._store.save(record):
            self._announce(record)
        if not analysis.degraded:
            return AnalyzeOutcome("analyzed", record=record)
        return AnalyzeOutcome("degraded", reason, self._schedule_full(job), record)

    def _announce(self, record: AnalysisRecord) -> None:
        """The lifecycle routes a conversation by its first analysis (job ``analyzed``)."""
        if self._lifecycle is None:
            return
        ctx = record.context
        job = LifecycleJob(
            kind="analyzed", tenant_id=ctx.tenant_id, conversation_id=ctx.conversation_id, message_id=ctx.message_id
        )
        try:
            self._lifecycle.publish([job])
        except Exception:  # the analysis is stored; the lifecycle's timer routes the conversation later
            logger.warning("lifecycle queue refused the analyzed job")

    def _full(self, request: AnalyzeRequest) -> tuple[Analysis | None, str | None]:
        if self._inference is None:
            return None, "no_worker_configured"
        with self._lock:
            allowed, self._breaker = self._breaker.allows(self._clock.monotonic())
        if not allowed:
            return None, "circuit_open"
        try:
            analysis = self._inference.analyze(request)
        except InferenceUnavailableError as exc:
            with self._lock:
                self._breaker = self._breaker.failed(self._clock.monotonic())
            logger.warning("worker unavailable (%s); storing a degraded analysis", type(exc.__cause__ or exc).__name__)
            return None, "worker_unavailable"
        with self._lock:
            self._breaker = self._breaker.succeeded()
        # the worker may itself answer degraded (its processes busy or down): ask again later
        return analysis, "worker_degraded" if analysis.degraded else None

    def _record(self, context: AnalysisContext, analysis: Analysis, attempt: int) -> AnalysisRecord:
        score = lead_score(analysis, context.engagement)
        return AnalysisRecord(
            context=context,
            analysis=analysis,
            score=score,
            triage=triage(analysis, score, context.received_at),
            attempt=attempt,
        )

    def _schedule_full(self, job: AnalyzeJob) -> int | None:
        if self._queue is None or self._inference is None:
            return None
        if job.attempt >= self._retry.max_attempts:
            logger.warning("full analysis given up after %d attempts; the degraded one stays", job.attempt)
            return None
        delay = retry_delay_seconds(job.attempt, self._retry.base_delay_seconds, self._retry.max_delay_seconds)
        self._queue.enqueue(job.retry(), delay_seconds=delay)
        return delay
