"""Quiet hours and days of a tenant's campaigns (no I/O; the time comes from a clock port).

Default: no campaign message from 20:00 to 08:00 (America/Sao_Paulo) nor on Sundays. A send
planned inside quiet time waits for the next opening ("morning"); nothing is dropped.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Annotated
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, field_validator

DEFAULT_TIMEZONE = "America/Sao_Paulo"
SUNDAY = 6  # datetime.weekday(): Monday is 0
Weekday = Annotated[int, Field(ge=0, le=6)]


class QuietHours(BaseModel):
    """``start`` -> ``end`` is quiet (over midnight when start > end; none when equal); every
    day in ``days_off`` (0 Monday .. 6 Sunday) is quiet all day, in ``timezone``."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    timezone: str = DEFAULT_TIMEZONE
    start: time = time(20, 0)
    end: time = time(8, 0)
    days_off: tuple[Weekday, ...] = (SUNDAY,)

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        if len(value) > 64:
            raise ValueError("unknown time zone")
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError("unknown time zone") from exc
        return value

    @field_validator("start", "end")
    @classmethod
    def _whole_minutes(cls, value: time) -> time:
        if value.tzinfo is not None:
            raise ValueError("a local time of day, without a time zone")
        return value.replace(second=0, microsecond=0)

    @field_validator("days_off")
    @classmethod
    def _distinct_days(cls, value: tuple[int, ...]) -> tuple[int, ...]:
        return tuple(sorted(set(value)))

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def local(self, moment: datetime) -> datetime:
        return _aware(moment).astimezone(self.zone)

    def _quiet_clock(self, t: time) -> bool:
        if self.start == self.end:
            return False
        if self.start < self.end:
            return self.start <= t < self.end
        return t >= self.start or t < self.end

    def is_quiet(self, moment: datetime) -> bool:
        local = self.local(moment)
        return local.weekday() in self.days_off or self._quiet_clock(local.time().replace(tzinfo=None))

    def next_open(self, moment: datetime) -> datetime:
        """``moment`` when sends are allowed then, else the next moment they are (in UTC)."""
        local = self.local(moment)
        for _ in range(32):  # a week of days off and daily windows is far fewer steps
            if not self.is_quiet(local):
                return local.astimezone(UTC)
            local = self._next_boundary(local)
        raise ValueError("these quiet hours never open")

    def _next_boundary(self, local: datetime) -> datetime:
        """The next local moment at which quietness may change."""
        day = local.date()
        if local.weekday() in self.days_off:
            return _at(day + timedelta(days=1), time(0, 0), self.zone)
        t = local.time().replace(tzinfo=None)
        end_today = _at(day, self.end, self.zone)
        if t < self.end:
            return end_today
        return _at(day + timedelta(days=1), self.end, self.zone)

    def local_day(self, moment: datetime) -> str:
        """The local calendar day (ISO) of ``moment``: daily caps count per this day."""
        return self.local(moment).date().isoformat()


def _aware(moment: datetime) -> datetime:
    if moment.tzinfo is None:
        raise ValueError("an aware datetime is required")
    return moment


def _at(day: date, t: time, zone: ZoneInfo) -> datetime:
    return datetime.combine(day, t, tzinfo=zone)
