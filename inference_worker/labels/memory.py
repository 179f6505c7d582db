"""The example memory: the project's own example messages plus a tenant's corrections.

``examples.jsonl`` holds messages written by the project in Brazilian WhatsApp style
(never taken from the evaluation data). Their embeddings ship precomputed in
``examples.npz`` together with the digest of the file they were computed from; when the
file changes they are recomputed at load (``python -m inference_worker.labels.memory``
rewrites the archive).
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt

from inference_worker.labels.embedder import MODEL_NAME, Embedder
from ponte.domain.analysis import Intent, LabeledExample, Sentiment

logger = logging.getLogger(__name__)

HERE = Path(__file__).resolve().parent
EXAMPLES_FILE = HERE / "examples.jsonl"
VECTORS_FILE = HERE / "examples.npz"


@dataclass(frozen=True)
class ExampleSet:
    """Embedded examples; a label is None where the example does not carry it."""

    vectors: npt.NDArray[np.float32]
    sentiments: tuple[Sentiment | None, ...]
    intents: tuple[Intent | None, ...]
    weights: npt.NDArray[np.float32]

    def __len__(self) -> int:
        return len(self.sentiments)

    def extended(self, other: ExampleSet) -> ExampleSet:
        if not len(other):
            return self
        return ExampleSet(
            vectors=np.concatenate([self.vectors, other.vectors]),
            sentiments=self.sentiments + other.sentiments,
            intents=self.intents + other.intents,
            weights=np.concatenate([self.weights, other.weights]),
        )


def load_examples(path: Path = EXAMPLES_FILE) -> list[LabeledExample]:
    with path.open(encoding="utf-8") as fh:
        return [LabeledExample.model_validate_json(line) for line in fh if line.strip()]


def digest_of(path: Path) -> str:
    return hashlib.sha256(path.read_bytes() + MODEL_NAME.encode()).hexdigest()


def embed_examples(embedder: Embedder, examples: list[LabeledExample], weight: float = 1.0) -> ExampleSet:
    vectors = embedder.embed_many([e.text for e in examples]) if examples else np.zeros((0, 384), np.float32)
    return ExampleSet(
        vectors=vectors,
        sentiments=tuple(e.sentiment for e in examples),
        intents=tuple(e.intent for e in examples),
        weights=np.full(len(examples), weight, dtype=np.float32),
    )


def base_examples(embedder: Embedder) -> ExampleSet:
    examples = load_examples()
    digest = digest_of(EXAMPLES_FILE)
    if VECTORS_FILE.exists():
        with np.load(VECTORS_FILE) as archive:
            if str(archive["digest"]) == digest and len(archive["vectors"]) == len(examples):
                return ExampleSet(
                    vectors=archive["vectors"].astype(np.float32),
                    sentiments=tuple(e.sentiment for e in examples),
                    intents=tuple(e.intent for e in examples),
                    weights=np.ones(len(examples), dtype=np.float32),
                )
    logger.warning("examples.npz is stale: embedding %d examples at start-up", len(examples))
    return embed_examples(embedder, examples)


def write_vectors(embedder: Embedder | None = None) -> Path:
    """Recompute ``examples.npz`` from ``examples.jsonl``."""
    embedder = embedder or Embedder()
    examples = load_examples()
    vectors = embedder.embed_many([e.text for e in examples])
    np.savez_compressed(VECTORS_FILE, vectors=vectors.astype(np.float16), digest=np.array(digest_of(EXAMPLES_FILE)))
    return VECTORS_FILE


if __name__ == "__main__":
    print(write_vectors())
