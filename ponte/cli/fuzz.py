"""``ponte fuzz [--minutes N] [--seed S]``: the webhook edge's HTTP fuzz, for as long as asked.

Starts a throw-away local stack (its own PostgreSQL, no worker, per-instance limits lifted),
posts mutated gateway bodies to it and checks what the suite's short run checks: no 5xx, a
machine code on every 4xx, one diagnostics row per request, every accepted message stored.
Prints the violations, then one JSON line; exits 1 when there was any.
"""

from __future__ import annotations

import argparse
import json
import tempfile
from pathlib import Path


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("fuzz", help="fuzz the webhook edge of a throw-away local stack over HTTP")
    p.add_argument("--minutes", type=float, default=5.0)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--max-array", type=int, default=3000, help="largest Evolution data array under the cap")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from ponte.localstack.fuzz import run_fuzz, stack_targets
    from ponte.localstack.stack import LocalStack

    with tempfile.TemporaryDirectory(prefix="ponte-fuzz-") as state:
        stack = LocalStack(
            state_dir=Path(state),
            keep_data=False,
            overrides={"instance_events_per_second": 1e6, "instance_events_burst": 1e6},
        ).start()
        try:
            report = run_fuzz(
                stack_targets(stack), stack.dsn, seconds=args.minutes * 60, seed=args.seed, max_array=args.max_array
            )
        finally:
            stack.stop()
    for violation in report.violations:
        print(violation)
    print(json.dumps({**report.summary(), "by_mutation": dict(report.by_mutation), "seed": args.seed}))
    return 1 if report.violations else 0
