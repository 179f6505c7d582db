"""``ponte eval FILE.jsonl``: run the analyzer's label path over a labelled JSONL and print its scores.

Each line: ``text``, ``label`` and optionally ``also_ok`` (labels that also count as right).
Whether the file is a sentiment or an intent set is told from its labels.

``--learn-from N`` replays agents' corrections (``inference_worker/replay.py``): on three shuffles,
a fresh tenant's agent corrects the first N messages through the real correction path on a
throwaway PostgreSQL (or a scratch database on ``DATABASE_URL``), and the rest are scored before
and after, and for a second tenant that corrected nothing (it must not change).

``--extra-examples FILE`` measures a candidate example set (lines as in ``examples.jsonl``) before it
joins the shipped one: its examples join the memory and the linear head for that run only.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("eval", help="score the analyzer on a labelled JSONL (sentiment or intent)")
    p.add_argument("file", type=Path)
    p.add_argument(
        "--learn-from",
        type=int,
        metavar="N",
        help="replay the first N labels as agents' corrections (three shuffles) and score the rest before/after",
    )
    p.add_argument(
        "--extra-examples",
        type=Path,
        metavar="FILE",
        help="measure a candidate example set: its lines (text, sentiment, intent) join the shipped examples"
        " for this run only",
    )
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from inference_worker.evaluation import Report, detect_task, folds_for, load_items
    from inference_worker.labels import default_labeler

    try:
        items = load_items(args.file)
        task = detect_task(items)
        labeler = with_examples(default_labeler(), args.extra_examples)
    except (OSError, ValueError) as exc:
        print(f"ponte eval: {exc}", file=sys.stderr)
        return 2
    if args.extra_examples is not None:
        print(f"extra_examples={args.extra_examples} memory={len(labeler.base)}")
    labeler.label("aquecendo")  # load the embedding model outside the timed loop
    if args.learn_from is not None:
        return _learn(args, items, task, labeler)
    report = Report(task=task, classes=_classes(task))
    folds = folds_for(items, task)
    if folds:
        print("folded (the file has no such class): " + ", ".join(f"{k} -> {v}" for k, v in folds.items()))
    for item in items:
        started = time.perf_counter()
        labels = labeler.label(item.text)
        elapsed_ms = (time.perf_counter() - started) * 1000
        prediction = labels.sentiment if task == "sentiment" else labels.intent
        report.add(item, folds.get(str(prediction), str(prediction)), elapsed_ms)
    print(f"file={args.file} labels_source={labels.source}")
    print(report.render())
    return 0


def with_examples(labeler: Any, extra: Path | None) -> Any:
    """``labeler`` itself, or a labeler whose memory (and linear head) also holds the examples in ``extra``
    (a candidate set measured before it joins ``examples.jsonl``). Raises ValueError for a malformed file."""
    if extra is None:
        return labeler
    from inference_worker.labels import Labeler
    from inference_worker.labels.memory import embed_examples, load_examples

    examples = load_examples(extra)
    if not examples:
        raise ValueError(f"{extra}: no examples")
    return Labeler(embedder=labeler.embedder, base=labeler.base.extended(embed_examples(labeler.embedder, examples)))


def _classes(task: str) -> tuple[str, ...]:
    from inference_worker.evaluation import INTENTS, SENTIMENTS

    return SENTIMENTS if task == "sentiment" else INTENTS


def _learn(args: argparse.Namespace, items: list[Any], task: str, labeler: Any) -> int:
    import os
    import tempfile

    import psycopg

    from inference_worker.replay import replay
    from ponte.adapters.postgres.migrate import migrate
    from ponte.localstack.pgcluster import PgCluster

    if not 0 < args.learn_from < len(items):
        print(f"ponte eval: --learn-from must be between 1 and {len(items) - 1}", file=sys.stderr)
        return 2
    external = os.environ.get("DATABASE_URL")
    cluster = None if external else PgCluster(Path(tempfile.mkdtemp(prefix="ponte-eval-")) / "data").start()
    admin = external or cluster.url  # type: ignore[union-attr]
    name = f"ponte_eval_{os.getpid()}"
    try:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f"create database {name}")
        dsn = psycopg.conninfo.make_conninfo(admin, dbname=name)
        migrate(dsn)
        results = replay(dsn, items, task=task, classes=_classes(task), learn_from=args.learn_from, labeler=labeler)
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f"drop database if exists {name} with (force)")
        if cluster is not None:
            cluster.stop()
    print(f"file={args.file} task={task} learn_from={args.learn_from} held_out={len(items) - args.learn_from}")
    for r in results:
        print(
            f"shuffle seed={r.seed} corrections={r.corrections} examples_read={r.examples_read} "
            f"before macro_f1={r.before.macro_f1:.3f} after macro_f1={r.after.macro_f1:.3f} gain={r.gain:+.3f} "
            f"accuracy {r.before.accuracy:.3f} -> {r.after.accuracy:.3f} "
            f"other_tenant_unchanged={r.other_tenant_unchanged}"
        )
        print("  per-class F1 before: " + " ".join(f"{c}={r.before.f1(c):.3f}" for c in r.before.gold_classes))
        print("  per-class F1 after:  " + " ".join(f"{c}={r.after.f1(c):.3f}" for c in r.after.gold_classes))
    gains = [r.gain for r in results]
    stable = all(g > 0 for g in gains)
    isolated = all(r.other_tenant_unchanged for r in results)
    print(
        f"gain min={min(gains):+.3f} mean={sum(gains) / len(gains):+.3f} max={max(gains):+.3f} positive_on_all={stable}"
    )
    summary = {"task": task, "learn_from": args.learn_from, "gains": [round(g, 4) for g in gains]}
    summary |= {"positive_on_all": stable, "tenant_isolated": isolated}
    print(json.dumps(summary))
    return 0 if isolated else 1
