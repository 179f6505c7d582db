"""Ports of the analyze use case: the worker, the fast path, the store and the job queue."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence

from ponte.domain.analysis import Analysis, AnalyzeRequest
from ponte.domain.analysis_record import AnalysisContext, AnalysisRecord
from ponte.domain.analyze_job import AnalyzeJob


class InferenceUnavailableError(Exception):
    """The worker did not answer in time, refused (429/5xx) or answered something invalid."""


class InferenceClient(ABC):
    @abstractmethod
    def analyze(self, request: AnalyzeRequest) -> Analysis:
        """The worker's analysis; raises :class:`InferenceUnavailableError` when it cannot give one."""


class FastLabeler(ABC):
    @abstractmethod
    def label(self, request: AnalyzeRequest) -> Analysis:
        """A degraded analysis from the fast path (no LLM, no reply); never fails."""


class AnalysisStore(ABC):
    @abstractmethod
    def context(self, tenant_id: str, message_id: str) -> AnalysisContext | None:
        """The message to analyse with what scoring needs; None when it is gone or not an inbound text."""

    @abstractmethod
    def save(self, record: AnalysisRecord) -> bool:
        """Store the analysis, its suggestion, the lead's score and the conversation's priority and SLA,
        in one transaction. False when a full analysis was already stored (nothing changed)."""


class AnalyzeJobQueue(ABC):
    @abstractmethod
    def enqueue(self, job: AnalyzeJob, *, delay_seconds: int = 0) -> None: ...

    def enqueue_many(self, jobs: Sequence[AnalyzeJob]) -> None:
        """Several jobs at once (an ingest batch's); an adapter may send them in fewer calls."""
        for job in jobs:
            self.enqueue(job)
