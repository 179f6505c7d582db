"""Normalize throughput over the fixture mix, in-process, on one core.

    ponte bench normalize [--seconds 5]
    ponte bench normalize --instructions [--passes 60]


The mix is every provider fixture (the anonymized real payloads plus the constructed shapes):
JSON is parsed once up front, then the registry's ``normalize`` runs over the mix in a loop;
the parse itself is timed apart (stdlib ``json.loads`` against the edge's ``parse_json_body``).
Reported: canonical events/s (and payloads/s) per CPU-second of this process -- the honest
figure on a shared machine -- overall and for the median and the best pass over the mix (other
processes' load inflates the CPU time of some passes), and per wall-clock second; with the identity caches warm
(steady state: the same contacts write again and again) and cold (cleared before every pass
over the mix, so libphonenumber parses every number of the pass again).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import time
import timeit
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ponte.domain.identity import clear_caches
from ponte.services.json_body import parse_json_body
from proxy.providers import normalize
from proxy.providers.goldens import fixture_paths


def load_mix() -> list[tuple[str, Any]]:
    return [(provider, json.loads(path.read_text())) for provider, path in fixture_paths()]


def parse_cost(seconds: float) -> dict[str, float]:
    """Microseconds per fixture body: the stdlib parser the edge used before, and the edge's
    bounded parser (orjson with depth/number limits, escape cleaning), over the same bytes."""
    bodies = [path.read_bytes() for _, path in fixture_paths()]
    size = sum(len(b) for b in bodies)
    costs: dict[str, float] = {}
    for name, parse in (("json.loads", json.loads), ("parse_json_body", parse_json_body)):
        passes, started = 0, time.process_time()
        while time.process_time() - started < seconds / 2 or passes == 0:
            for body in bodies:
                parse(body)
            passes += 1
        cpu = time.process_time() - started
        costs[name] = cpu / (passes * len(bodies)) * 1e6
        print(f"parse ({name}): {costs[name]:.1f} us per body, {passes * size / cpu / 1e6:,.0f} MB/s per CPU-second")
    return costs


@dataclass
class Run:
    payloads: int = 0
    events: int = 0
    wall: float = 0.0
    cpu: float = 0.0
    pass_cpu: list[float] = field(default_factory=list)  # CPU seconds of each pass over the mix

    def rate(self, cpu_seconds: float) -> float:
        """Events per CPU-second at the run's events-per-pass."""
        return self.events / len(self.pass_cpu) / cpu_seconds


def run(mix: list[tuple[str, Any]], seconds: float, *, cold: bool) -> Run:
    result = Run()
    started, cpu_started = time.perf_counter(), time.process_time()
    deadline = started + seconds
    while time.perf_counter() < deadline:
        if cold:
            clear_caches()
        pass_started = time.process_time()
        for provider, payload in mix:
            result.events += len(normalize(provider, payload, instance="bench").events)
        result.pass_cpu.append(time.process_time() - pass_started)
        result.payloads += len(mix)
    result.wall, result.cpu = time.perf_counter() - started, time.process_time() - cpu_started
    return result


def _passes(count: int) -> None:
    """The child of ``--instructions``: one warm-up pass, then ``count`` passes over the mix."""
    mix = load_mix()
    for _ in range(count + 1):
        for provider, payload in mix:
            normalize(provider, payload, instance="bench")


def _instructions(passes: int) -> float:
    """CPU instructions per canonical event, counted by valgrind's cachegrind: a run of ``passes``
    passes minus a run of none (start-up, imports and the warm-up pass cancel out). Unlike a
    rate, the count does not move with the machine's load."""
    valgrind = shutil.which("valgrind")
    if valgrind is None:
        raise SystemExit("--instructions needs valgrind (apt-get install valgrind)")

    def count(n: int) -> int:
        done = subprocess.run(
            [valgrind, "--tool=cachegrind", "--cache-sim=no", "--cachegrind-out-file=/dev/null",
             sys.executable, "-m", "bench.normalize", "--child-passes", str(n)],
            capture_output=True, text=True, check=True, cwd=Path(__file__).resolve().parents[1],
        )  # fmt: skip
        return int(next(line for line in done.stderr.splitlines() if "I   refs" in line).split()[-1].replace(",", ""))

    events = sum(len(normalize(provider, payload, instance="bench").events) for provider, payload in load_mix())
    return (count(passes) - count(0)) / (passes * events)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="ponte bench normalize")
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--instructions", action="store_true", help="count CPU instructions per event (valgrind)")
    parser.add_argument("--passes", type=int, default=60, help="passes over the mix for --instructions")
    parser.add_argument("--child-passes", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child_passes is not None:
        _passes(args.child_passes)
        return 0
    if args.instructions:
        print(f"normalize: {_instructions(args.passes):,.0f} CPU instructions per canonical event (cachegrind)")
        return 0
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})  # one core, as the figure claims
    mix = load_mix()
    run(mix, 0.5, cold=False)  # warm-up: imports, caches, pydantic validators
    print(f"fixture mix: {len(mix)} payloads; python {platform.python_version()}; {platform.machine()}")
    print(f"load average before: {os.getloadavg()[0]:.2f} on {os.cpu_count()} CPUs")
    # This VM's speed drifts up to 2x with its host's load: a fixed CPython loop dates the figure.
    reference = min(timeit.repeat("sum(range(1000))", number=2000, repeat=5)) / 2000 * 1e6
    print(f"machine speed reference: sum(range(1000)) takes {reference:.1f} us (best of 5)")
    figures: dict[str, Any] = {"bench": "normalize", "payloads": len(mix), "reference_us": round(reference, 1)}
    for label, cold in (("warm identity caches", False), ("cold identity caches", True)):
        r = run(mix, args.seconds, cold=cold)
        figures[f"events_per_cpu_second_{'cold' if cold else 'warm'}"] = round(r.events / r.cpu)
        passes = sorted(r.pass_cpu)
        print(
            f"normalize ({label}): {r.events / r.cpu:,.0f} events/s per CPU-second overall"
            f" ({r.payloads / r.cpu:,.0f} payloads/s); per pass over the mix: median"
            f" {r.rate(statistics.median(passes)):,.0f}, best {r.rate(passes[0]):,.0f} events/s;"
            f" wall clock {r.events / r.wall:,.0f} events/s"
            f" [{r.payloads:,} payloads, {r.events:,} events, {len(passes)} passes,"
            f" {r.wall:.2f}s wall, {r.cpu:.2f}s CPU, one core]"
        )
    figures |= {f"parse_us_{k.replace('.', '_')}": round(v, 2) for k, v in parse_cost(args.seconds).items()}
    print(json.dumps(figures))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
