"""``ponte bench NAME``: run ``bench/NAME.py`` (its ``main(argv)``) and print its figures."""

from __future__ import annotations

import argparse
import importlib.util
import sys
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parents[2] / "bench"


def available() -> list[str]:
    return sorted(p.stem for p in BENCH_DIR.glob("*.py") if not p.stem.startswith("_"))


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("bench", help="run a benchmark from bench/ (e.g. `ponte bench normalize`)")
    p.add_argument("name", choices=available())
    p.add_argument("args", nargs=argparse.REMAINDER, help="passed to the benchmark")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    # loaded by path: bench/ is a folder of scripts next to the packages, not an installed package
    spec = importlib.util.spec_from_file_location(f"bench_{args.name}", BENCH_DIR / f"{args.name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses and pickling look the module up by name
    spec.loader.exec_module(module)
    result: int = module.main(args.args)
    return result
