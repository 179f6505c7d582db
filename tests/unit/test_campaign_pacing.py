"""Quiet hours, the throttle planner and the send-time gaps of campaigns."""

from __future__ import annotations

import itertools
import random
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from pydantic import ValidationError

from ponte.domain.campaigns.quiet_hours import QuietHours
from ponte.domain.campaigns.throttle import (
    CLOUD_POLICY,
    UNOFFICIAL_POLICY,
    Channel,
    PacingState,
    ThrottlePolicy,
    channel_of,
    estimate_seconds,
    gap_wait_seconds,
    next_gap,
    pair_wait_seconds,
    plan_slots,
    policy_for,
)

SP = ZoneInfo("America/Sao_Paulo")


def sp(y: int, mo: int, d: int, h: int, mi: int = 0) -> datetime:
    return datetime(y, mo, d, h, mi, tzinfo=SP)


# 2026-12-07 is a Monday, 2026-12-13 a Sunday.
@pytest.mark.parametrize(
    ("moment", "quiet"),
    [
        (sp(2026, 12, 7, 7, 59), True),
        (sp(2026, 12, 7, 8, 0), False),
        (sp(2026, 12, 7, 12, 0), False),
        (sp(2026, 12, 7, 19, 59), False),
        (sp(2026, 12, 7, 20, 0), True),
        (sp(2026, 12, 7, 23, 30), True),
        (sp(2026, 12, 8, 0, 0), True),
        (sp(2026, 12, 12, 15, 0), False),  # Saturday
        (sp(2026, 12, 13, 12, 0), True),  # Sunday
    ],
)
def test_default_quiet_hours(moment: datetime, quiet: bool) -> None:
    assert QuietHours().is_quiet(moment) is quiet
    assert QuietHours().is_quiet(moment.astimezone(UTC)) is quiet


@pytest.mark.parametrize(
    ("moment", "opens"),
    [
        (sp(2026, 12, 7, 21, 0), sp(2026, 12, 8, 8, 0)),  # evening -> next morning
        (sp(2026, 12, 8, 3, 0), sp(2026, 12, 8, 8, 0)),  # night -> this morning
        (sp(2026, 12, 8, 10, 0), sp(2026, 12, 8, 10, 0)),  # open: now
        (sp(2026, 12, 12, 20, 30), sp(2026, 12, 14, 8, 0)),  # Saturday night -> Monday morning
        (sp(2026, 12, 13, 9, 0), sp(2026, 12, 14, 8, 0)),  # Sunday -> Monday
    ],
)
def test_next_opening(moment: datetime, opens: datetime) -> None:
    found = QuietHours().next_open(moment)
    assert found == opens and found.tzinfo is UTC


def test_quiet_windows_in_the_day_none_and_every_day_off() -> None:
    lunch = QuietHours(start=time(12, 0), end=time(14, 0), days_off=())
    assert lunch.is_quiet(sp(2026, 12, 7, 12, 30)) and not lunch.is_quiet(sp(2026, 12, 7, 14, 0))
    assert lunch.next_open(sp(2026, 12, 7, 13, 0)) == sp(2026, 12, 7, 14, 0)
    never = QuietHours(start=time(9, 0), end=time(9, 0), days_off=())
    assert not never.is_quiet(sp(2026, 12, 13, 3, 0))
    with pytest.raises(ValueError, match="never open"):
        QuietHours(days_off=(0, 1, 2, 3, 4, 5, 6)).next_open(sp(2026, 12, 7, 10, 0))


def test_quiet_hours_validation() -> None:
    with pytest.raises(ValidationError):
        QuietHours(timezone="Mars/Olympus")
    with pytest.raises(ValidationError):
        QuietHours(timezone="x" * 100)
    with pytest.raises(ValidationError):
        QuietHours(days_off=(7,))
    with pytest.raises(ValueError, match="aware"):
        QuietHours().is_quiet(datetime(2026, 12, 7, 12, 0))
    assert QuietHours(days_off=(6, 6, 5)).days_off == (5, 6)
    assert QuietHours(timezone="America/Manaus").is_quiet(datetime(2026, 12, 8, 0, 30, tzinfo=UTC))  # 20:30 there


def test_policies_by_channel_and_scale() -> None:
    assert channel_of("cloud") is Channel.CLOUD
    assert channel_of("evolution") is channel_of("wppconnect") is Channel.UNOFFICIAL
    assert policy_for(Channel.UNOFFICIAL) == UNOFFICIAL_POLICY
    assert policy_for(Channel.CLOUD, cloud_tier=2000).daily_unique_recipients == 2000
    assert policy_for(Channel.CLOUD, cloud_tier=None).daily_unique_recipients is None
    assert policy_for(Channel.UNOFFICIAL, daily_cap=1000).daily_cap == 1000
    assert policy_for(Channel.CLOUD, daily_cap=1000).daily_cap is None
    fast = policy_for(Channel.UNOFFICIAL, scale=0.001)
    assert fast.min_gap_seconds == pytest.approx(0.008) and fast.long_pause_max_seconds == pytest.approx(0.24)
    assert fast.daily_cap == UNOFFICIAL_POLICY.daily_cap  # counts do not scale
    assert UNOFFICIAL_POLICY.min_gap_seconds >= 5 and UNOFFICIAL_POLICY.max_identical_bodies == 199
    assert CLOUD_POLICY.pair_gap_seconds == 6 and 1 / CLOUD_POLICY.min_gap_seconds <= 80
    with pytest.raises(ValidationError):
        ThrottlePolicy(min_gap_seconds=5, max_gap_seconds=2)
    with pytest.raises(ValidationError):
        ThrottlePolicy(min_gap_seconds=1, max_gap_seconds=2, long_pause_min_seconds=9, long_pause_max_seconds=1)
    assert estimate_seconds(0, UNOFFICIAL_POLICY) == 0
    assert estimate_seconds(101, UNOFFICIAL_POLICY) == pytest.approx(100 * (14 + 165 / 20))


def plan(state: PacingState, now: datetime, *, policy: ThrottlePolicy = UNOFFICIAL_POLICY, **kw: object):  # type: ignore[no-untyped-def]
    args: dict[str, object] = {"horizon": timedelta(hours=2), "limit": 1000, "rng": random.Random(7), **kw}
    return plan_slots(state, policy, QuietHours(), now, **args)  # type: ignore[arg-type]


def test_unofficial_slots_are_jittered_with_long_pauses() -> None:
    now = sp(2026, 12, 7, 9, 0)
    result = plan(PacingState(), now, limit=60)
    slots = result.slots
    assert len(slots) == 60 and slots[0] == now.astimezone(UTC)
    gaps = [(b - a).total_seconds() for a, b in itertools.pairwise(slots)]
    assert all(g >= 8 for g in gaps)
    normal = [g for i, g in enumerate(gaps) if (i + 1) % 20]
    long = [g for i, g in enumerate(gaps) if (i + 1) % 20 == 0]
    assert all(8 <= g <= 20 for g in normal) and len({round(g, 3) for g in normal}) > 40  # jittered
    assert len(long) == 2 and all(8 + 90 <= g <= 20 + 240 for g in long)
    assert result.state.in_burst == 0 and result.state.day_count == 60 and result.state.day == "2026-12-07"
    assert result.state.next_at is not None and result.state.next_at > slots[-1]


def test_planning_continues_from_the_state_and_stops_at_the_horizon() -> None:
    now = sp(2026, 12, 7, 9, 0)
    first = plan(PacingState(), now, horizon=timedelta(minutes=1))
    assert 3 <= len(first.slots) <= 8 and all(s <= now + timedelta(minutes=1) for s in first.slots)
    second = plan(first.state, now, horizon=timedelta(minutes=2))
    assert second.slots[0] == first.state.next_at  # nothing planned twice, no gap skipped
    assert len(set(first.slots) & set(second.slots)) == 0
    later = plan(first.state, now + timedelta(hours=1), limit=1)  # an idle instance starts at once
    assert later.slots == ((now + timedelta(hours=1)).astimezone(UTC),)


def test_no_slot_in_quiet_time_and_the_daily_cap_moves_to_the_next_morning() -> None:
    evening = sp(2026, 12, 7, 19, 58)
    result = plan(PacingState(), evening, limit=30, horizon=timedelta(days=2))
    assert all(not QuietHours().is_quiet(s) for s in result.slots)
    assert any(s.astimezone(SP).date().day == 8 and s.astimezone(SP).hour == 8 for s in result.slots)
    capped = ThrottlePolicy(min_gap_seconds=1, max_gap_seconds=1, daily_cap=3)
    result = plan(PacingState(), sp(2026, 12, 7, 10, 0), policy=capped, limit=5, horizon=timedelta(days=3))
    days = [s.astimezone(SP).date().day for s in result.slots]
    assert days == [7, 7, 7, 8, 8] and result.slots[3] == sp(2026, 12, 8, 8, 0)
    # the count carries over in the state: a later plan the same day finds the day full
    again = plan(PacingState(day="2026-12-08", day_count=3), sp(2026, 12, 8, 9, 0), policy=capped, limit=1,
                 horizon=timedelta(days=2))  # fmt: skip
    assert again.slots == (sp(2026, 12, 9, 8, 0),)


def test_budget_limit_and_quiet_now() -> None:
    now = sp(2026, 12, 7, 9, 0)
    assert len(plan(PacingState(), now, budget=2).slots) == 2
    assert plan(PacingState(), now, budget=0).slots == ()
    assert plan(PacingState(), sp(2026, 12, 7, 21, 0), horizon=timedelta(minutes=30)).slots == ()
    cloud = policy_for(Channel.CLOUD)
    result = plan(PacingState(), now, policy=cloud, limit=100, horizon=timedelta(seconds=2))
    gaps = {round((b - a).total_seconds(), 4) for a, b in itertools.pairwise(result.slots)}
    assert gaps == {0.025} and len(result.slots) == 81


def test_the_gate_draws_jittered_gaps_and_a_long_pause_every_burst() -> None:
    rng = random.Random(3)
    gaps, count = [], 0
    for _ in range(40):
        gap, count = next_gap(UNOFFICIAL_POLICY, count, rng)
        gaps.append(gap)
    long = [i for i, g in enumerate(gaps) if g > 20]
    assert long == [19, 39] and all(8 <= g <= 20 for i, g in enumerate(gaps) if i not in long)
    assert all(98 <= gaps[i] <= 260 for i in long) and count == 0
    assert next_gap(CLOUD_POLICY, 5, rng) == (0.025, 6)  # no bursts on the Cloud API


def test_send_time_waits() -> None:
    now = sp(2026, 12, 7, 9, 0)
    assert gap_wait_seconds(None, now, UNOFFICIAL_POLICY) == 0
    assert gap_wait_seconds(now - timedelta(seconds=3), now, UNOFFICIAL_POLICY) == pytest.approx(5)
    assert gap_wait_seconds(now - timedelta(seconds=30), now, UNOFFICIAL_POLICY) == 0
    assert pair_wait_seconds(now - timedelta(seconds=2), now, CLOUD_POLICY) == pytest.approx(4)
    assert pair_wait_seconds(None, now, CLOUD_POLICY) == 0
