"""Sentiment by weighted k-nearest neighbours over the example memory; intent by the same vote
blended with a linear head fitted on the project's examples.

Measured on the evaluation development split (``ponte eval``, figures in the README): k-NN over
query-prefixed e5 embeddings beat centroids, LeIA and the linear head for sentiment; LeIA is kept
as a second signal for the sentiment score, not the label (adding it to the vote lowered
macro-F1). For intent, 0.7 k-NN + 0.3 linear head beat either alone. A tenant's corrections join
the k-NN memory only, so they move that tenant's labels and nobody else's.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Generic, TypeVar

import numpy as np
import numpy.typing as npt

from inference_worker.labels import lexicon, rules
from inference_worker.labels.embedder import MODEL_NAME, Embedder
from inference_worker.labels.head import LinearHead
from inference_worker.labels.memory import ExampleSet, base_examples, embed_examples
from ponte.domain.analysis import LOW_CONFIDENCE, Intent, LabeledExample, Sentiment, Urgency

LABELS_SOURCE = f"knn+linear:{MODEL_NAME}+leia+rules"
K = 9
# A tenant's correction counts as this many of the project's examples, and an almost
# identical corrected message decides on its own.
TENANT_WEIGHT = 3.0
SAME_MESSAGE = 0.97
LEXICON_SHARE = 0.25
# The intent's linear head's share of the blend (the rest is the k-NN vote).
HEAD_SHARE = 0.3

L = TypeVar("L", bound=StrEnum)


@dataclass(frozen=True)
class Labels:
    sentiment: Sentiment
    sentiment_score: float
    intent: Intent
    intent_confidence: float
    urgency: Urgency
    sentiment_confidence: float = 1.0
    source: str = LABELS_SOURCE

    @property
    def low_confidence(self) -> bool:
        return min(self.intent_confidence, self.sentiment_confidence) < LOW_CONFIDENCE


@dataclass(frozen=True)
class Vote(Generic[L]):
    label: L
    shares: dict[L, float]
    # True when a tenant's near-identical corrected message decided alone
    corrected: bool = False


def _vote(
    sims: npt.NDArray[np.float32], weights: npt.NDArray[np.float32], labels: Sequence[L | None], fallback: L
) -> Vote[L]:
    idx = [i for i in np.argsort(-sims) if labels[i] is not None][:K]
    votes: dict[L, float] = {}
    for i in idx:
        label = labels[i]
        assert label is not None
        votes[label] = votes.get(label, 0.0) + float(max(sims[i], 0.0) * weights[i])
    total = sum(votes.values())
    if not total:
        return Vote(fallback, {})
    shares = {label: v / total for label, v in votes.items()}
    # an almost identical tenant correction wins outright
    for i in idx:
        if weights[i] > 1.0 and sims[i] >= SAME_MESSAGE:
            label = labels[i]
            assert label is not None
            return Vote(label, {label: 1.0}, corrected=True)
    return Vote(max(shares, key=lambda lab: shares[lab]), shares)


class Labeler:
    def __init__(self, embedder: Embedder | None = None, base: ExampleSet | None = None) -> None:
        self.embedder = embedder or Embedder()
        self.base = base if base is not None else base_examples(self.embedder)
        self.intent_head = LinearHead.fit(self.base.vectors, self.base.intents, tuple(Intent))

    def memory_for(self, examples: Sequence[LabeledExample]) -> ExampleSet:
        """The project's examples plus the tenant's (their embeddings are cached by text)."""
        return self.base.extended(embed_examples(self.embedder, list(examples), weight=TENANT_WEIGHT))

    def _intent(self, query: npt.NDArray[np.float32], vote: Vote[Intent]) -> tuple[Intent, dict[Intent, float]]:
        if vote.corrected:
            return vote.label, vote.shares
        head = self.intent_head.probabilities(query)
        blended = {c: (1 - HEAD_SHARE) * vote.shares.get(c, 0.0) + HEAD_SHARE * head[c] for c in Intent}
        return max(blended, key=lambda c: blended[c]), blended

    def label(self, text: str, examples: Sequence[LabeledExample] = ()) -> Labels:
        memory = self.memory_for(examples)
        query = self.embedder.embed(text)
        sims = memory.vectors @ query
        s_vote = _vote(sims, memory.weights, memory.sentiments, Sentiment.NEUTRAL)
        sentiment, s_shares = s_vote.label, s_vote.shares
        intent, i_shares = self._intent(query, _vote(sims, memory.weights, memory.intents, Intent.OTHER))
        knn_polarity = s_shares.get(Sentiment.POSITIVE, 0.0) - s_shares.get(Sentiment.NEGATIVE, 0.0)
        score = (1 - LEXICON_SHARE) * knn_polarity + LEXICON_SHARE * lexicon.polarity(text)
        return Labels(
            sentiment=sentiment,
            sentiment_score=round(max(-1.0, min(1.0, score)), 3),
            intent=intent,
            intent_confidence=round(i_shares.get(intent, 0.0), 3),
            urgency=rules.urgency(text, intent, sentiment),
            sentiment_confidence=round(s_shares.get(sentiment, 0.0), 3),
        )
