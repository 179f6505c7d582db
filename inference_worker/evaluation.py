"""Classification metrics for ``ponte eval``: accuracy, macro-F1, per-class F1, confusion matrix, latency."""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from ponte.domain.analysis import Intent, Sentiment

SENTIMENTS = tuple(s.value for s in Sentiment)
INTENTS = tuple(i.value for i in Intent)


@dataclass(frozen=True)
class Item:
    text: str
    label: str
    also_ok: frozenset[str] = frozenset()


@dataclass
class Report:
    task: str
    classes: tuple[str, ...]
    gold: list[str] = field(default_factory=list)
    predicted: list[str] = field(default_factory=list)
    latencies_ms: list[float] = field(default_factory=list)

    def add(self, item: Item, prediction: str, latency_ms: float) -> None:
        # an acceptable alternative counts as the gold label
        self.gold.append(item.label)
        self.predicted.append(item.label if prediction in item.also_ok else prediction)
        self.latencies_ms.append(latency_ms)

    @property
    def accuracy(self) -> float:
        return sum(g == p for g, p in zip(self.gold, self.predicted, strict=True)) / max(1, len(self.gold))

    def f1(self, label: str) -> float:
        pairs = list(zip(self.gold, self.predicted, strict=True))
        tp = sum(g == label and p == label for g, p in pairs)
        fp = sum(g != label and p == label for g, p in pairs)
        fn = sum(g == label and p != label for g, p in pairs)
        return 0.0 if tp == 0 else 2 * tp / (2 * tp + fp + fn)

    @property
    def gold_classes(self) -> list[str]:
        return [c for c in self.classes if c in set(self.gold)]

    @property
    def macro_f1(self) -> float:
        """Averaged over the classes present in the gold labels."""
        classes = self.gold_classes
        return sum(self.f1(c) for c in classes) / max(1, len(classes))

    def confusion(self) -> dict[str, dict[str, int]]:
        rows = {g: dict.fromkeys(self.classes, 0) for g in self.gold_classes}
        for g, p in zip(self.gold, self.predicted, strict=True):
            rows[g][p] += 1
        return rows

    def render(self) -> str:
        lines = [
            f"task={self.task} items={len(self.gold)}",
            f"accuracy={self.accuracy:.3f}",
            f"macro_f1={self.macro_f1:.3f}",
            "per-class F1: " + " ".join(f"{c}={self.f1(c):.3f}" for c in self.gold_classes),
            f"latency_ms p50={percentile(self.latencies_ms, 50):.1f} p95={percentile(self.latencies_ms, 95):.1f}",
            "confusion (rows = gold, columns = predicted):",
        ]
        shown = [c for c in self.classes if c in set(self.gold) | set(self.predicted)]
        width = max(len(c) for c in shown) + 1
        lines.append(" " * width + "".join(f"{c[: width - 1]:>{width}}" for c in shown))
        for gold, row in self.confusion().items():
            lines.append(f"{gold:<{width}}" + "".join(f"{row[c]:>{width}}" for c in shown))
        return "\n".join(lines)


def percentile(values: Sequence[float], q: float) -> float:
    """Nearest-rank percentile."""
    if not values:
        return math.nan
    ordered = sorted(values)
    rank = max(1, math.ceil(q / 100 * len(ordered)))
    return ordered[rank - 1]


def load_items(path: Path) -> list[Item]:
    items = []
    with path.open(encoding="utf-8") as fh:
        for number, line in enumerate(fh, 1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
                items.append(Item(row["text"], row["label"], frozenset(row.get("also_ok") or ())))
            except (ValueError, KeyError, TypeError) as exc:
                raise ValueError(f"{path}:{number}: expected an object with 'text' and 'label' ({exc})") from exc
    return items


def folds_for(items: Sequence[Item], task: str) -> dict[str, str]:
    """Files labelled before ``cancellation`` existed file a cancellation under support_request."""
    labels = {i.label for i in items} | {a for i in items for a in i.also_ok}
    return {"cancellation": "support_request"} if task == "intent" and "cancellation" not in labels else {}


def detect_task(items: Sequence[Item]) -> str:
    """'sentiment' when every label is a sentiment, 'intent' when every label is an intent."""
    labels = {i.label for i in items} | {a for i in items for a in i.also_ok}
    if labels and labels <= set(SENTIMENTS):
        return "sentiment"
    if labels and labels <= set(INTENTS):
        return "intent"
    raise ValueError(f"labels {sorted(labels)} are neither all sentiments {SENTIMENTS} nor all intents {INTENTS}")
