"""In-memory fakes of the analyze ports."""

from __future__ import annotations

from ponte.domain.analysis import Analysis, AnalyzeRequest, Intent, Sentiment, Urgency
from ponte.domain.analysis_record import AnalysisContext, AnalysisRecord
from ponte.domain.analyze_job import AnalyzeJob
from ponte.domain.fast_labels import fast_analysis
from ponte.ports.analysis import (
    AnalysisStore,
    AnalyzeJobQueue,
    FastLabeler,
    InferenceClient,
    InferenceUnavailableError,
)


class FakeAnalyzeQueue(AnalyzeJobQueue):
    def __init__(self, *, fail: bool = False) -> None:
        self.jobs: list[tuple[AnalyzeJob, int]] = []
        self.fail = fail

    def enqueue(self, job: AnalyzeJob, *, delay_seconds: int = 0) -> None:
        if self.fail:
            raise ConnectionError("queue down")
        self.jobs.append((job, delay_seconds))


class FakeInference(InferenceClient):
    """Answers a fixed full analysis while ``up``; raises like a dead worker otherwise."""

    def __init__(
        self, *, up: bool = True, reply: str = "Olá! Posso te ajudar com o pedido?", low_confidence: bool = False
    ) -> None:
        self.up = up
        self.reply = reply
        self.low_confidence = low_confidence
        self.calls: list[AnalyzeRequest] = []

    def analyze(self, request: AnalyzeRequest) -> Analysis:
        self.calls.append(request)
        if not self.up:
            raise InferenceUnavailableError("ConnectError")
        return Analysis(
            sentiment=Sentiment.POSITIVE,
            sentiment_score=0.6,
            intent=Intent.PURCHASE_INTEREST,
            intent_confidence=0.9,
            urgency=Urgency.MEDIUM,
            suggested_reply=self.reply,
            reply_source="template",
            labels_source="fake",
            model="fake-model",
            sentiment_confidence=0.4 if self.low_confidence else 0.8,
            low_confidence=self.low_confidence,
        )


class RulesOnlyLabeler(FastLabeler):
    """The fast path without the lexicon (compound 0): keeps service tests independent of LeIA."""

    def label(self, request: AnalyzeRequest) -> Analysis:
        return fast_analysis(request.text, 0.0, request.examples)


class FakeAnalysisStore(AnalysisStore):
    def __init__(self, *contexts: AnalysisContext) -> None:
        self.contexts = {c.message_id: c for c in contexts}
        self.saved: list[AnalysisRecord] = []

    def context(self, tenant_id: str, message_id: str) -> AnalysisContext | None:
        ctx = self.contexts.get(message_id)
        if ctx is None or ctx.tenant_id != tenant_id:
            return None
        full = any(r.context.message_id == message_id and not r.analysis.degraded for r in self.saved)
        return ctx.model_copy(update={"has_full_analysis": full})

    def save(self, record: AnalysisRecord) -> bool:
        if any(r.context.message_id == record.context.message_id and not r.analysis.degraded for r in self.saved):
            return False
        self.saved.append(record)
        return True
