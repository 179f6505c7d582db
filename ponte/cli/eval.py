"""``ponte eval FILE.jsonl``: run the analyzer's label path over a labelled JSONL and print its scores.

Each line: ``text``, ``label`` and optionally ``also_ok`` (labels that also count as right).
Whether the file is a sentiment or an intent set is told from its labels.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("eval", help="score the analyzer on a labelled JSONL (sentiment or intent)")
    p.add_argument("file", type=Path)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from inference_worker.evaluation import Report, detect_task, load_items
    from inference_worker.labels import default_labeler

    try:
        items = load_items(args.file)
        task = detect_task(items)
    except (OSError, ValueError) as exc:
        print(f"ponte eval: {exc}", file=sys.stderr)
        return 2
    labeler = default_labeler()
    labeler.label("aquecendo")  # load the embedding model outside the timed loop
    report = Report(task=task, classes=_classes(task))
    for item in items:
        started = time.perf_counter()
        labels = labeler.label(item.text)
        elapsed_ms = (time.perf_counter() - started) * 1000
        prediction = labels.sentiment if task == "sentiment" else labels.intent
        report.add(item, str(prediction), elapsed_ms)
    print(f"file={args.file} labels_source={labels.source}")
    print(report.render())
    return 0


def _classes(task: str) -> tuple[str, ...]:
    from inference_worker.evaluation import INTENTS, SENTIMENTS

    return SENTIMENTS if task == "sentiment" else INTENTS
