"""The circuit breaker's state machine over injected time."""

from __future__ import annotations

import pytest

from ponte.domain.breaker import Breaker, BreakerState

pytestmark = pytest.mark.unit


def test_opens_after_consecutive_failures_and_refuses_while_cooling_down() -> None:
    b = Breaker(failure_threshold=3, reset_after=10)
    b = b.failed(0).failed(1)
    assert b.state is BreakerState.CLOSED and b.allows(1)[0]
    b = b.failed(2)
    assert b.state is BreakerState.OPEN
    assert b.allows(11.9)[0] is False


def test_a_success_resets_the_failure_count() -> None:
    b = Breaker(failure_threshold=2).failed(0).succeeded().failed(1)
    assert b.state is BreakerState.CLOSED


def test_half_open_lets_one_trial_through_and_closes_on_success() -> None:
    b = Breaker(failure_threshold=1, reset_after=5).failed(0)
    allowed, b = b.allows(5.0)
    assert allowed and b.state is BreakerState.HALF_OPEN
    assert b.allows(5.1)[0] is False  # the trial call is still out
    assert b.succeeded().state is BreakerState.CLOSED


def test_a_failed_trial_opens_again_for_a_full_period() -> None:
    b = Breaker(failure_threshold=1, reset_after=5).failed(0)
    _, b = b.allows(6)
    b = b.failed(6)
    assert b.state is BreakerState.OPEN and b.opened_at == 6
    assert b.allows(10)[0] is False and b.allows(11)[0] is True
