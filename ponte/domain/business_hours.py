"""Business hours: when a tenant, an instance or a team answers.

A schedule has a time zone (``America/Sao_Paulo`` by default), several intervals per weekday
(split shifts), Brazil's national holidays built in (the ``holidays`` package's public list:
Confraternização Universal, Sexta-feira Santa, Tiradentes, Dia do Trabalho, Independência, Nossa
Senhora Aparecida, Finados, Proclamação da República, Consciência Negra, Natal) and the tenant's own
days off (a city's anniversary, a closing). ``business_seconds`` measures a wait in open time only,
for the business-hours KPIs."""

from __future__ import annotations

import itertools
import re
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import holidays
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

Weekday = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
WEEKDAYS: tuple[Weekday, ...] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
DEFAULT_TIME_ZONE = "America/Sao_Paulo"
MAX_DAYS_MEASURED = 400  # business_seconds over a longer span is cut there (a year of reports is 366 days)
_CLOCK = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$|^24:00$")


def _minutes(clock: str) -> int:
    hours, minutes = clock.split(":")
    return int(hours) * 60 + int(minutes)


class Interval(BaseModel):
    """``["08:00", "12:00"]``: open from 08:00 to 12:00 local time (``24:00`` ends at midnight)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    start: str
    end: str

    @field_validator("start", "end")
    @classmethod
    def _clock(cls, value: str) -> str:
        if not _CLOCK.match(value):
            raise ValueError("times are HH:MM, 00:00 to 24:00")
        return value

    @model_validator(mode="after")
    def _ordered(self) -> Interval:
        if _minutes(self.end) <= _minutes(self.start):
            raise ValueError("an interval ends after it starts")
        return self

    @property
    def minutes(self) -> tuple[int, int]:
        return _minutes(self.start), _minutes(self.end)


class LocalHoliday(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    date: date
    name: str = Field(min_length=1, max_length=80)


class Schedule(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    time_zone: str = DEFAULT_TIME_ZONE
    weekly: dict[Weekday, list[Interval]] = Field(default_factory=dict)
    national_holidays: bool = True
    holidays: list[LocalHoliday] = Field(default_factory=list, max_length=200)

    @field_validator("time_zone")
    @classmethod
    def _zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {value!r}") from exc
        return value

    @field_validator("weekly")
    @classmethod
    def _no_overlap(cls, value: dict[Weekday, list[Interval]]) -> dict[Weekday, list[Interval]]:
        for day, intervals in value.items():
            if len(intervals) > 8:
                raise ValueError(f"{day}: at most 8 intervals a day")
            spans = sorted(i.minutes for i in intervals)
            if any(a[1] > b[0] for a, b in itertools.pairwise(spans)):
                raise ValueError(f"{day}: intervals overlap")
        return value

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.time_zone)

    def closed_on(self, day: date) -> bool:
        """A holiday: national (when on) or the tenant's own."""
        if any(h.date == day for h in self.holidays):
            return True
        return self.national_holidays and day in _national(day.year)

    def open_spans(self, day: date) -> list[tuple[datetime, datetime]]:
        """The day's open intervals as aware datetimes (none on a holiday)."""
        if self.closed_on(day):
            return []
        zone = self.zone
        spans = []
        for interval in self.weekly.get(WEEKDAYS[day.weekday()], []):
            start, end = interval.minutes
            midnight = datetime.combine(day, time(0), tzinfo=zone)
            spans.append((_at(midnight, start, zone), _at(midnight, end, zone)))
        return sorted(spans)


@lru_cache(maxsize=64)
def _national(year: int) -> frozenset[date]:
    return frozenset(holidays.country_holidays("BR", years=year))


def national_holidays(year: int) -> dict[date, str]:
    """Brazil's national holidays of ``year``, named in Portuguese."""
    return dict(holidays.country_holidays("BR", years=year, language="pt_BR"))


def _at(midnight: datetime, minutes: int, zone: ZoneInfo) -> datetime:
    """Local wall-clock minutes after midnight (a DST change moves the wall clock, not the count)."""
    day = midnight.date() + timedelta(days=minutes // 1440)
    return datetime.combine(day, time(minutes % 1440 // 60, minutes % 60), tzinfo=zone)


def is_open(schedule: Schedule | None, at: datetime) -> bool:
    """No schedule: always open."""
    if schedule is None:
        return True
    local = at.astimezone(schedule.zone)
    return any(start <= local < end for start, end in schedule.open_spans(local.date()))


def next_open(schedule: Schedule, at: datetime, horizon_days: int = 30) -> datetime | None:
    """When it next opens (``at`` itself when open), within ``horizon_days``; None when it never does."""
    local = at.astimezone(schedule.zone)
    for offset in range(horizon_days + 1):
        for start, end in schedule.open_spans(local.date() + timedelta(days=offset)):
            if end > local:
                return max(start, local).astimezone(UTC)
    return None


def business_seconds(schedule: Schedule | None, start: datetime, end: datetime) -> float:
    """Open seconds between ``start`` and ``end`` (wall clock when there is no schedule)."""
    if end <= start:
        return 0.0
    if schedule is None:
        return (end - start).total_seconds()
    zone = schedule.zone
    first, last = start.astimezone(zone).date(), end.astimezone(zone).date()
    days = min((last - first).days, MAX_DAYS_MEASURED)
    total = 0.0
    for offset in range(days + 1):
        for open_at, close_at in schedule.open_spans(first + timedelta(days=offset)):
            overlap = (min(close_at, end) - max(open_at, start)).total_seconds()
            total += max(0.0, overlap)
    return total
