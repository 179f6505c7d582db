"""The answer of last resort, computed in the HTTP front when no worker process can answer in time.

LeIA's polarity for the sentiment, keyword rules for urgency, intent ``other`` with zero
confidence and a template reply; ``degraded`` tells the caller to ask again later.
"""

from __future__ import annotations

from inference_worker.labels import lexicon, rules
from inference_worker.templates import template_reply
from ponte.domain.analysis import Analysis, AnalyzeRequest, Intent, Sentiment

LABELS_SOURCE = "leia+rules"
THRESHOLD = 0.05  # VADER's customary neutral band


def degraded_analysis(request: AnalyzeRequest) -> Analysis:
    score = lexicon.polarity(request.text)
    sentiment = (
        Sentiment.POSITIVE if score >= THRESHOLD else Sentiment.NEGATIVE if score <= -THRESHOLD else Sentiment.NEUTRAL
    )
    intent = Intent.OTHER
    reply = template_reply(intent, sentiment, request.contact_name) if request.want_reply else None
    return Analysis(
        sentiment=sentiment,
        sentiment_score=round(score, 3),
        intent=intent,
        intent_confidence=0.0,
        urgency=rules.urgency(request.text, intent, sentiment),
        suggested_reply=reply,
        reply_source="template" if reply else "none",
        labels_source=LABELS_SOURCE,
        model="none",
        degraded=True,
        low_confidence=True,
    )
