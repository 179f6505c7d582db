"""How fast a campaign may send from one WhatsApp number (no I/O; time and randomness are given).

Unofficial gateways (WPPConnect, Evolution) get banned for looking like a robot: jittered gaps of
several seconds between messages, a long pause every few dozen, a daily cap per number, and no
two hundred recipients with the same text. The Cloud API has hard limits instead: throughput per
number (80 msg/s, inbound included: campaigns take half), one message per 6 s to the same user
(pair rate, 131056), and the portfolio's daily unique-recipient tier (250 / 2K / 10K / 100K /
unlimited). See operations.md §3 and §5.

The planner hands out send *slots* (times) per instance from its pacing state; the send path
checks again at send time that the last send on the instance is at least ``min_gap`` ago, so a
backlog delivered late (a poller restarted) is still spaced.
"""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from ponte.domain.campaigns.quiet_hours import QuietHours

CloudTier = Literal[250, 2000, 10000, 100000]
CLOUD_TIERS: tuple[int, ...] = (250, 2000, 10000, 100000)


class Channel(StrEnum):
    UNOFFICIAL = "unofficial"  # WPPConnect, Evolution (a phone's WhatsApp session)
    CLOUD = "cloud"  # Meta's Cloud API


def channel_of(provider: str) -> Channel:
    return Channel.CLOUD if provider == "cloud" else Channel.UNOFFICIAL


class ThrottlePolicy(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    min_gap_seconds: float = Field(gt=0, le=3600)
    max_gap_seconds: float = Field(gt=0, le=3600)
    burst_size: int = Field(default=0, ge=0, le=10_000)  # sends between long pauses (0: none)
    long_pause_min_seconds: float = Field(default=0, ge=0, le=86_400)
    long_pause_max_seconds: float = Field(default=0, ge=0, le=86_400)
    daily_cap: int | None = Field(default=None, ge=1, le=1_000_000)  # per number and local day
    pair_gap_seconds: float = Field(default=6.0, ge=0, le=3600)  # to one user
    daily_unique_recipients: int | None = Field(default=None, ge=1)  # Cloud tier, moving 24 h
    max_identical_bodies: int | None = Field(default=None, ge=1)

    @model_validator(mode="after")
    def _ordered(self) -> ThrottlePolicy:
        if self.max_gap_seconds < self.min_gap_seconds:
            raise ValueError("max_gap_seconds is below min_gap_seconds")
        if self.long_pause_max_seconds < self.long_pause_min_seconds:
            raise ValueError("long_pause_max_seconds is below long_pause_min_seconds")
        return self

    def scaled(self, factor: float) -> ThrottlePolicy:
        """Every duration times ``factor`` (local tests and benchmarks run a campaign in seconds)."""
        if factor == 1:
            return self
        return self.model_copy(
            update={
                "min_gap_seconds": self.min_gap_seconds * factor,
                "max_gap_seconds": self.max_gap_seconds * factor,
                "long_pause_min_seconds": self.long_pause_min_seconds * factor,
                "long_pause_max_seconds": self.long_pause_max_seconds * factor,
                "pair_gap_seconds": self.pair_gap_seconds * factor,
            }
        )

    def mean_gap_seconds(self) -> float:
        gap = (self.min_gap_seconds + self.max_gap_seconds) / 2
        if self.burst_size:
            gap += (self.long_pause_min_seconds + self.long_pause_max_seconds) / 2 / self.burst_size
        return gap


# Ticketz's defaults average ~13 s a message; ours are a little slower and cap the day.
UNOFFICIAL_POLICY = ThrottlePolicy(
    min_gap_seconds=8,
    max_gap_seconds=20,
    burst_size=20,
    long_pause_min_seconds=90,
    long_pause_max_seconds=240,
    daily_cap=400,
    pair_gap_seconds=6,
    max_identical_bodies=199,
)
# 40 msg/s: half of a number's 80 (inbound counts too); the tier is the portfolio's.
CLOUD_POLICY = ThrottlePolicy(
    min_gap_seconds=0.025, max_gap_seconds=0.025, pair_gap_seconds=6, daily_unique_recipients=250
)


def policy_for(
    channel: Channel, *, cloud_tier: int | None = 250, daily_cap: int | None = None, scale: float = 1.0
) -> ThrottlePolicy:
    """The channel's policy; ``cloud_tier`` None is Meta's unlimited tier; ``daily_cap`` a tenant's
    own cap per unofficial number (a number warmed up over months takes more than a new one)."""
    if channel is Channel.CLOUD:
        return CLOUD_POLICY.model_copy(update={"daily_unique_recipients": cloud_tier}).scaled(scale)
    policy = UNOFFICIAL_POLICY if daily_cap is None else UNOFFICIAL_POLICY.model_copy(update={"daily_cap": daily_cap})
    return policy.scaled(scale)


class PacingState(BaseModel):
    """One instance's pacing, kept between plans (a row per instance)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    next_at: datetime | None = None  # the earliest start of the next planned send
    in_burst: int = Field(default=0, ge=0)  # sends planned since the last long pause
    day: str | None = None  # the local day day_count counts
    day_count: int = Field(default=0, ge=0)


class Plan(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    slots: tuple[datetime, ...]
    state: PacingState


def plan_slots(
    state: PacingState,
    policy: ThrottlePolicy,
    quiet: QuietHours,
    now: datetime,
    *,
    horizon: timedelta,
    limit: int,
    rng: random.Random,
    budget: int | None = None,
) -> Plan:
    """Up to ``limit`` send times (and no more than ``budget``) from ``now`` to ``now + horizon``:
    each after the state's ``next_at``, jittered gaps apart, a long pause after every
    ``burst_size``, none in quiet time, at most ``daily_cap`` per local day."""
    slots: list[datetime] = []
    t = max(now, state.next_at) if state.next_at else now
    day, day_count, in_burst = state.day, state.day_count, state.in_burst
    cap = limit if budget is None else min(limit, max(0, budget))
    end = now + horizon
    for _ in range(cap + 64):  # each pass plans a slot or moves t forward (quiet, full day)
        if len(slots) >= cap:
            break
        t = quiet.next_open(t)
        today = quiet.local_day(t)
        if today != day:
            day, day_count = today, 0
        if policy.daily_cap is not None and day_count >= policy.daily_cap:
            t = _next_local_day(quiet, t)
            continue
        if t > end:
            break
        slots.append(t)
        day_count += 1
        in_burst += 1
        gap = rng.uniform(policy.min_gap_seconds, policy.max_gap_seconds)
        if policy.burst_size and in_burst >= policy.burst_size:
            gap += rng.uniform(policy.long_pause_min_seconds, policy.long_pause_max_seconds)
            in_burst = 0
        t = t + timedelta(seconds=gap)
    return Plan(slots=tuple(slots), state=PacingState(next_at=t, in_burst=in_burst, day=day, day_count=day_count))


def _next_local_day(quiet: QuietHours, moment: datetime) -> datetime:
    local = quiet.local(moment)
    midnight = datetime.combine(local.date() + timedelta(days=1), datetime.min.time(), tzinfo=quiet.zone)
    return midnight.astimezone(UTC)


def next_gap(policy: ThrottlePolicy, sent_in_burst: int, rng: random.Random) -> tuple[float, int]:
    """The gap the instance must keep after a send that just took its turn, and the new burst count:
    a jittered gap, plus a long pause after every ``burst_size`` sends. Drawn at send time, so a
    backlog delivered late (a poller restarted, an outage) is paced like planned sends."""
    gap = rng.uniform(policy.min_gap_seconds, policy.max_gap_seconds)
    count = sent_in_burst + 1
    if policy.burst_size and count >= policy.burst_size:
        return gap + rng.uniform(policy.long_pause_min_seconds, policy.long_pause_max_seconds), 0
    return gap, count


def gap_wait_seconds(last_sent_at: datetime | None, now: datetime, policy: ThrottlePolicy) -> float:
    """How long a send must still wait so that it starts ``min_gap`` after the instance's last one."""
    if last_sent_at is None:
        return 0.0
    return max(0.0, (last_sent_at + timedelta(seconds=policy.min_gap_seconds) - now).total_seconds())


def pair_wait_seconds(last_to_user_at: datetime | None, now: datetime, policy: ThrottlePolicy) -> float:
    """How long a message to one user must still wait after the last one to that user."""
    if last_to_user_at is None:
        return 0.0
    return max(0.0, (last_to_user_at + timedelta(seconds=policy.pair_gap_seconds) - now).total_seconds())


def estimate_seconds(recipients: int, policy: ThrottlePolicy) -> float:
    """Sending time of ``recipients`` at this pace, quiet hours and daily caps aside."""
    return max(0, recipients - 1) * policy.mean_gap_seconds()
