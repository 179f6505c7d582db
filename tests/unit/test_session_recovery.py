"""The session-recovery state machine: reconnects, reset total, cooldown, QR rate limit."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from ponte.domain.gateway import SessionStatus
from ponte.domain.session_recovery import (
    ActionKind,
    Observation,
    RecoveryPhase,
    RecoveryPolicy,
    RecoveryState,
    Trigger,
    step,
)

pytestmark = pytest.mark.unit

T0 = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
DOWN = Observation(status=SessionStatus.NOT_LOGGED, trigger=Trigger.FOLLOW_UP)


def run(
    state: RecoveryState, obs: Observation, policy: RecoveryPolicy, at: datetime = T0
) -> tuple[RecoveryState, list[tuple[str, bool]]]:
    decision = step(state, obs, now=at, policy=policy)
    return decision.state, [(a.kind.value, a.alternate) for a in decision.actions]


def test_not_logged_gets_three_reconnects_alternating_credentials_then_a_reset() -> None:
    policy = RecoveryPolicy(has_alternate=True)
    state = RecoveryState()
    seen = []
    obs = Observation(status=SessionStatus.NOT_LOGGED, trigger=Trigger.EVENT)
    for _ in range(4):
        state, actions = run(state, obs, policy)
        seen.extend(actions)
        obs = DOWN  # each reconnect's own result: still down
    assert seen == [("reconnect", False), ("reconnect", True), ("reconnect", False), ("reset", False)]
    assert state.phase is RecoveryPhase.AWAITING_QR
    assert (state.reconnects, state.resets) == (0, 1)


def test_without_alternate_credentials_every_reconnect_uses_the_primary() -> None:
    state, seen = RecoveryState(), []
    for _ in range(3):
        state, actions = run(state, DOWN, RecoveryPolicy())
        seen.extend(actions)
    assert seen == [("reconnect", False)] * 3


def test_connected_clears_the_counters() -> None:
    state, _ = run(RecoveryState(), DOWN, RecoveryPolicy())
    state, actions = run(
        state, Observation(status=SessionStatus.CONNECTED, trigger=Trigger.FOLLOW_UP), RecoveryPolicy()
    )
    assert actions == [] and state.phase is RecoveryPhase.HEALTHY and state.reconnects == 0


def test_events_during_a_fresh_recovery_are_ignored_until_the_cooldown_ends() -> None:
    policy = RecoveryPolicy(cooldown_seconds=20)
    state, _ = run(RecoveryState(), DOWN, policy)
    event = Observation(status=SessionStatus.DISCONNECTED, trigger=Trigger.EVENT)
    decision = step(state, event, now=T0 + timedelta(seconds=5), policy=policy)
    assert decision.actions == () and decision.reason == "cooldown"
    decision = step(state, event, now=T0 + timedelta(seconds=25), policy=policy)
    assert [a.kind for a in decision.actions] == [ActionKind.RECONNECT]


def test_after_a_reset_down_events_wait_for_the_human() -> None:
    state = RecoveryState(phase=RecoveryPhase.AWAITING_QR, resets=1)
    decision = step(
        state, Observation(status=SessionStatus.NOT_LOGGED, trigger=Trigger.EVENT), now=T0, policy=RecoveryPolicy()
    )
    assert decision.actions == () and decision.reason == "awaiting_qr"


def test_admin_reconnect_starts_a_fresh_round_and_admin_reset_resets_at_once() -> None:
    state = RecoveryState(phase=RecoveryPhase.AWAITING_QR, resets=1)
    obs = Observation(status=SessionStatus.NOT_LOGGED, trigger=Trigger.ADMIN_RECONNECT)
    state2, actions = run(state, obs, RecoveryPolicy())
    assert actions == [("reconnect", False)] and state2.reconnects == 1
    _, actions = run(
        RecoveryState(), Observation(status=SessionStatus.CONNECTED, trigger=Trigger.ADMIN_RESET), RecoveryPolicy()
    )
    assert actions == [("reset", False)]


def test_a_qr_loop_publishes_one_code_per_interval_and_never_a_repeat() -> None:
    policy = RecoveryPolicy(qr_min_interval_seconds=10)
    state = RecoveryState()
    published = 0
    # 300 distinct codes in one minute, as a looping gateway sends them
    for i in range(300):
        at = T0 + timedelta(seconds=i * 0.2)
        obs = Observation(status=SessionStatus.QR_PENDING, trigger=Trigger.EVENT, code_digest=f"code-{i}")
        state, actions = run(state, obs, policy, at)
        published += len(actions)
    assert published == 6  # t = 0, 10, 20, 30, 40, 50 s
    assert state.qr_published == 6 and state.qr_suppressed == 294
    repeat = Observation(
        status=SessionStatus.QR_PENDING, trigger=Trigger.EVENT, code_digest="code-250"
    )  # the last one published (t = 50 s)
    decision = step(state, repeat, now=T0 + timedelta(hours=1), policy=policy)
    assert decision.actions == () and decision.reason == "qr_repeat"
