"""A linear head over the embeddings: multinomial logistic regression fitted on the project's examples.

Fitted at load time from the shipped example vectors (deterministic, well under a second for a
thousand examples), so the example file stays the only source of truth. Features are standardized
with the examples' mean and spread (e5 vectors are unit-length and close together: without it the
fit underfits). Classes are weighted by their inverse frequency so a rare intent is not drowned.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Generic, TypeVar

import numpy as np
import numpy.typing as npt

L = TypeVar("L", bound=StrEnum)
Matrix = npt.NDArray[np.float64]

L2 = 0.1
ITERATIONS = 600
STEP = 0.5


def softmax(z: Matrix) -> Matrix:
    z = z - z.max(axis=-1, keepdims=True)
    e = np.exp(z)
    out: Matrix = e / e.sum(axis=-1, keepdims=True)
    return out


@dataclass(frozen=True)
class LinearHead(Generic[L]):
    classes: tuple[L, ...]
    mean: Matrix
    scale: Matrix
    weights: Matrix
    bias: Matrix

    @classmethod
    def fit(cls, vectors: npt.NDArray[np.float32], labels: Sequence[L | None], classes: Sequence[L]) -> LinearHead[L]:
        rows = [i for i, label in enumerate(labels) if label is not None]
        x = vectors[rows].astype(np.float64)
        mean = x.mean(axis=0)
        scale = x.std(axis=0) + 1e-6
        x = (x - mean) / scale
        index = {c: i for i, c in enumerate(classes)}
        y = np.array([index[labels[i]] for i in rows])  # type: ignore[index]
        target = np.eye(len(classes))[y]
        counts = np.maximum(target.sum(axis=0), 1.0)
        sample_weight = (len(y) / (len(classes) * counts))[y]
        sample_weight /= sample_weight.sum()
        weights = np.zeros((x.shape[1], len(classes)))
        bias = np.zeros(len(classes))
        for _ in range(ITERATIONS):  # full-batch gradient descent on the weighted cross-entropy
            grad = (softmax(x @ weights + bias) - target) * sample_weight[:, None]
            weights -= STEP * (x.T @ grad + L2 * weights)
            bias -= STEP * grad.sum(axis=0)
        return cls(tuple(classes), mean, scale, weights, bias)

    def probabilities(self, vector: npt.NDArray[np.float32]) -> dict[L, float]:
        p = softmax(((vector.astype(np.float64) - self.mean) / self.scale) @ self.weights + self.bias)
        return {c: float(v) for c, v in zip(self.classes, p, strict=True)}
