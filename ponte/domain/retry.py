"""Bounded retries: exponential backoff with full jitter (pure; the caller sleeps)."""

from __future__ import annotations

from collections.abc import Callable

from pydantic import BaseModel, ConfigDict, Field


class RetryPolicy(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    max_attempts: int = Field(default=3, ge=1, le=10)
    base_seconds: float = Field(default=0.25, ge=0)
    cap_seconds: float = Field(default=4.0, ge=0)

    def delay(self, retry_number: int, rand: Callable[[], float]) -> float:
        """Pause before retry ``retry_number`` (1-based): uniform in [0, min(cap, base * 2^(n-1))].

        Full jitter (AWS Architecture Blog, "Exponential Backoff And Jitter") spreads the
        retries of many proxies hitting one gateway instead of synchronising them.
        """
        ceiling = min(self.cap_seconds, self.base_seconds * float(1 << max(retry_number - 1, 0)))
        fraction: float = min(max(rand(), 0.0), 1.0)
        return ceiling * fraction

    def delays(self, rand: Callable[[], float]) -> list[float]:
        return [self.delay(n, rand) for n in range(1, self.max_attempts)]
