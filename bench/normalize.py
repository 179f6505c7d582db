"""Normalize throughput over the fixture mix, in-process, on one core.

    ponte bench normalize [--seconds 5]

The mix is every provider fixture (the anonymized real payloads plus the constructed shapes):
JSON is parsed once up front, then the registry's ``normalize`` runs over the mix in a loop.
Reported: canonical events/s (and payloads/s) per CPU-second of this process -- the honest
figure on a shared machine -- and per wall-clock second; with the identity caches warm
(steady state: the same contacts write again and again) and cold (cleared before every pass
over the mix, so libphonenumber parses every number of the pass again).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import time
from typing import Any

from ponte.domain.identity import clear_caches
from proxy.providers import normalize
from proxy.providers.goldens import fixture_paths


def load_mix() -> list[tuple[str, Any]]:
    return [(provider, json.loads(path.read_text())) for provider, path in fixture_paths()]


def run(mix: list[tuple[str, Any]], seconds: float, *, cold: bool) -> tuple[int, int, float, float]:
    """(payloads, events, wall seconds, CPU seconds of this process)."""
    payloads = events = 0
    started, cpu_started = time.perf_counter(), time.process_time()
    deadline = started + seconds
    while time.perf_counter() < deadline:
        if cold:
            clear_caches()
        for provider, payload in mix:
            events += len(normalize(provider, payload, instance="bench").events)
        payloads += len(mix)
    return payloads, events, time.perf_counter() - started, time.process_time() - cpu_started


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="ponte bench normalize")
    parser.add_argument("--seconds", type=float, default=5.0)
    args = parser.parse_args(argv)
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})  # one core, as the figure claims
    mix = load_mix()
    run(mix, 0.5, cold=False)  # warm-up: imports, caches, pydantic validators
    print(f"fixture mix: {len(mix)} payloads; python {platform.python_version()}; {platform.machine()}")
    print(f"load average before: {os.getloadavg()[0]:.2f} on {os.cpu_count()} CPUs")
    for label, cold in (("warm identity caches", False), ("cold identity caches", True)):
        payloads, events, wall, cpu = run(mix, args.seconds, cold=cold)
        print(
            f"normalize ({label}): {events / cpu:,.0f} events/s per CPU-second"
            f" ({payloads / cpu:,.0f} payloads/s); wall clock {events / wall:,.0f} events/s"
            f" [{payloads:,} payloads, {events:,} events, {wall:.2f}s wall, {cpu:.2f}s CPU, one core]"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
