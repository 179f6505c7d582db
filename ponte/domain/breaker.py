"""A circuit breaker as an explicit state machine over injected time (no I/O, no clock).

closed --(``failure_threshold`` consecutive failures)--> open
open --(``reset_after`` seconds)--> half-open: one trial call is let through
half-open --success--> closed;  half-open --failure--> open again
"""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field


class BreakerState(StrEnum):
    CLOSED = "closed"
    OPEN = "open"
    HALF_OPEN = "half_open"


class Breaker(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    failure_threshold: int = Field(default=3, ge=1)
    reset_after: float = Field(default=30.0, gt=0)
    state: BreakerState = BreakerState.CLOSED
    failures: int = 0
    opened_at: float | None = None

    def allows(self, now: float) -> tuple[bool, Breaker]:
        """Whether a call may go to the worker now, and the state after asking."""
        if self.state is BreakerState.CLOSED:
            return True, self
        if self.state is BreakerState.OPEN and self.opened_at is not None and now - self.opened_at >= self.reset_after:
            return True, self.model_copy(update={"state": BreakerState.HALF_OPEN})
        # open and cooling down, or half-open with its one trial call already out
        return False, self

    def succeeded(self) -> Breaker:
        return self.model_copy(update={"state": BreakerState.CLOSED, "failures": 0, "opened_at": None})

    def failed(self, now: float) -> Breaker:
        failures = self.failures + 1
        if self.state is BreakerState.HALF_OPEN or failures >= self.failure_threshold:
            return self.model_copy(update={"state": BreakerState.OPEN, "failures": failures, "opened_at": now})
        return self.model_copy(update={"failures": failures})
