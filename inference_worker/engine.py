"""One analysis engine per worker process: the label path, then a reply (LLM or template).

The pool's processes call :func:`init_process` once and :func:`analyze` per request. Each
process runs its models on one thread (measured faster on this hardware than one process
with many threads, and stable when a neighbour is busy).
"""

from __future__ import annotations

import logging
import os
import resource
import time
from dataclasses import dataclass
from typing import Any

from inference_worker.labels import Labeler, labels_to_analysis
from inference_worker.llm.gguf import model_name
from inference_worker.settings import WorkerSettings
from inference_worker.templates import template_reply
from ponte.domain.analysis import AnalyzeRequest
from ponte.domain.campaigns.rewrite import RewriteRequest

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Outcome:
    """What a worker process sends back: the analysis and how it was made (for metrics)."""

    analysis: dict[str, Any]
    pid: int
    rss_bytes: int
    labels_seconds: float
    llm_seconds: float | None
    llm_fallback: str | None


def uses_llm(settings: WorkerSettings) -> bool:
    return settings.reply_mode == "llm" or (settings.reply_mode == "auto" and settings.model_path is not None)


def rss_bytes() -> int:
    """Current resident set size of this process (peak if /proc is unavailable)."""
    try:
        with open("/proc/self/statm") as fh:
            return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except OSError:
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


class Engine:
    def __init__(self, settings: WorkerSettings, labeler: Labeler | None = None) -> None:
        self.settings = settings
        self.labeler = labeler or Labeler()
        self.llm_enabled = uses_llm(settings)
        self._writer: Any = None
        self._rewriter: Any = None

    @property
    def writer(self) -> Any:
        if self._writer is None:
            from inference_worker.llm.writer import ReplyWriter  # imports llama_cpp only when the LLM is used

            self._writer = ReplyWriter(self.settings)
        return self._writer

    def rewrite(self, request: RewriteRequest) -> str | None:
        """A campaign text reworded by the LLM; None when the LLM is off or gave nothing usable."""
        if not self.llm_enabled:
            return None
        if self._rewriter is None:
            from inference_worker.llm.rewriter import CampaignRewriter

            self._rewriter = CampaignRewriter(self.writer)
        text: str | None = self._rewriter.rewrite(request.text, request.name, request.max_chars)
        return text

    def warm_up(self) -> None:
        self.labeler.label("oi")
        if self.llm_enabled:
            self.writer.load()

    def analyze(self, request: AnalyzeRequest) -> Outcome:
        started = time.perf_counter()
        labels = self.labeler.label(request.text, request.examples)
        labels_seconds = time.perf_counter() - started
        reply, source, model = None, "none", "none"
        llm_seconds: float | None = None
        fallback: str | None = None
        if request.want_reply:
            if self.llm_enabled:
                llm_started = time.perf_counter()
                draft = self.writer.write(request.text, labels, request.contact_name)
                llm_seconds = time.perf_counter() - llm_started
                model = model_name(self.settings.model_path)
                if draft.reply is not None:
                    reply, source = draft.reply, "llm"
                fallback = draft.fallback
            if reply is None:
                reply, source = template_reply(labels.intent, labels.sentiment, request.contact_name), "template"
        analysis = labels_to_analysis(labels, request, reply=reply, reply_source=source, model=model)
        return Outcome(
            analysis=analysis.model_dump(mode="json"),
            pid=os.getpid(),
            rss_bytes=rss_bytes(),
            labels_seconds=labels_seconds,
            llm_seconds=llm_seconds,
            llm_fallback=fallback,
        )


# the engine of this worker process, set by the pool's initializer
_process: dict[str, Engine] = {}


def init_process(settings_json: str) -> None:
    """Pool initializer: one thread for every numeric library, then the engine."""
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[var] = "1"
    _process["engine"] = Engine(WorkerSettings.model_validate_json(settings_json))


def warm_up() -> int:
    _process["engine"].warm_up()
    return os.getpid()


def analyze(request_json: str) -> Outcome:
    return _process["engine"].analyze(AnalyzeRequest.model_validate_json(request_json))


def rewrite(request_json: str) -> str | None:
    return _process["engine"].rewrite(RewriteRequest.model_validate_json(request_json))
