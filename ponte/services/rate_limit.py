"""Per-instance admission at the webhook edge: a token bucket counted in canonical events.

A body is admitted while its instance's bucket is not in debt; its events are charged after
normalization, so one large body may take the bucket below zero and the instance's next bodies
are answered 429 with ``Retry-After`` until the debt is repaid at the sustained rate. Nothing is
lost: the gateway keeps a refused webhook and sends it again (Evolution and Meta honour 429).

The buckets live in the process (one per warm Lambda container, one in the local stack): on AWS
the proxy's concurrency multiplies the limit; it bounds a flood, it is not a billing meter.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Callable
from dataclasses import dataclass


@dataclass
class _Bucket:
    tokens: float
    at: float


class InstanceRateLimiter:
    def __init__(self, *, rate: float, burst: float, monotonic: Callable[[], float], max_tracked: int = 10_000) -> None:
        if rate <= 0 or burst < 1:
            raise ValueError("rate must be positive and burst at least 1")
        self._rate = rate
        self._burst = burst
        self._monotonic = monotonic
        self._max_tracked = max_tracked
        self._buckets: dict[str, _Bucket] = {}
        self._lock = threading.Lock()

    def retry_after(self, key: str) -> int | None:
        """Seconds the instance must wait (at least 1), or None when a body is admitted now."""
        with self._lock:
            bucket = self._refilled(key)
            if bucket.tokens > 0:
                return None
            return max(1, math.ceil((-bucket.tokens + 1) / self._rate))

    def charge(self, key: str, events: int) -> None:
        with self._lock:
            self._refilled(key).tokens -= max(1, events)

    def _refilled(self, key: str) -> _Bucket:
        now = self._monotonic()
        bucket = self._buckets.get(key)
        if bucket is None:
            if len(self._buckets) >= self._max_tracked:
                self._forget_full(now)
            bucket = self._buckets[key] = _Bucket(self._burst, now)
        bucket.tokens = min(self._burst, bucket.tokens + (now - bucket.at) * self._rate)
        bucket.at = now
        return bucket

    def _forget_full(self, now: float) -> None:
        """A bucket that has refilled completely says nothing a new one would not."""
        for key in [k for k, b in self._buckets.items() if b.tokens + (now - b.at) * self._rate >= self._burst]:
            del self._buckets[key]
