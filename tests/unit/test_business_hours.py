"""Business hours: split shifts, time zones, Brazil's national holidays and the tenant's own, the next
opening and open seconds between two instants (ponte/domain/business_hours.py)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from pydantic import ValidationError

from ponte.domain.business_hours import (
    Interval,
    LocalHoliday,
    Schedule,
    business_seconds,
    is_open,
    national_holidays,
    next_open,
)

WEEKDAY = [Interval(start="08:00", end="12:00"), Interval(start="13:00", end="18:00")]
SATURDAY = [Interval(start="09:00", end="13:00")]
SHOP = Schedule(
    weekly={"mon": WEEKDAY, "tue": WEEKDAY, "wed": WEEKDAY, "thu": WEEKDAY, "fri": WEEKDAY, "sat": SATURDAY},
    holidays=[LocalHoliday(date=date(2026, 1, 25), name="Aniversário de São Paulo")],
)


def sp(day: int, hour: int, minute: int = 0, month: int = 12) -> datetime:
    """São Paulo wall clock (UTC-3, no daylight saving since 2019) as UTC."""
    return datetime(2026, month, day, hour, minute, tzinfo=UTC) + timedelta(hours=3)


@pytest.mark.parametrize(
    ("at", "open_"),
    [
        (sp(7, 8), True),  # Monday 08:00, opening
        (sp(7, 11, 59), True),
        (sp(7, 12), False),  # lunch
        (sp(7, 12, 30), False),
        (sp(7, 13), True),  # afternoon shift
        (sp(7, 18), False),  # closing
        (sp(12, 10), True),  # Saturday morning
        (sp(12, 14), False),  # Saturday afternoon
        (sp(13, 10), False),  # Sunday
        (sp(25, 10), False),  # Natal (a Friday): national holiday
        (sp(20, 10, month=11), False),  # Consciência Negra, national since 2024
        (sp(26, 10, month=1), True),  # the Monday after the tenant's own holiday
    ],
)
def test_open_or_closed(at: datetime, open_: bool) -> None:
    assert is_open(SHOP, at) is open_


def test_the_tenants_own_holiday_and_national_ones_can_be_turned_off() -> None:
    assert not is_open(SHOP, sp(26, 10, month=1) - timedelta(days=1))  # Sunday 25 anyway
    working_christmas = SHOP.model_copy(update={"national_holidays": False})
    assert is_open(working_christmas, sp(25, 10))
    assert "Natal" in national_holidays(2026).values() and national_holidays(2026)[date(2026, 4, 3)] == (
        "Sexta-feira Santa"
    )


def test_no_schedule_is_always_open_and_counts_the_wall_clock() -> None:
    assert is_open(None, sp(13, 3))
    assert business_seconds(None, sp(7, 10), sp(7, 11)) == 3600


def test_next_open_skips_lunch_nights_weekends_and_holidays() -> None:
    assert next_open(SHOP, sp(7, 12, 15)) == sp(7, 13)
    assert next_open(SHOP, sp(7, 10)) == sp(7, 10)  # open now
    assert next_open(SHOP, sp(12, 14)) == sp(14, 8)  # Saturday afternoon -> Monday
    assert next_open(SHOP, sp(24, 19)) == sp(26, 9)  # Christmas Eve evening -> Saturday (Friday is Natal)
    assert next_open(Schedule(weekly={}), sp(7, 10)) is None


def test_business_seconds_count_only_open_time() -> None:
    assert business_seconds(SHOP, sp(7, 11), sp(7, 14)) == 2 * 3600  # 11-12 and 13-14
    assert business_seconds(SHOP, sp(11, 17), sp(14, 9)) == 1 * 3600 + 4 * 3600 + 3600  # Fri, Sat, Mon
    assert business_seconds(SHOP, sp(24, 17), sp(26, 10)) == 3600 + 3600  # across Natal
    assert business_seconds(SHOP, sp(7, 14), sp(7, 11)) == 0


def test_another_time_zone() -> None:
    manaus = SHOP.model_copy(update={"time_zone": "America/Manaus"})  # UTC-4
    assert not is_open(manaus, sp(7, 8))  # 07:00 in Manaus
    assert is_open(manaus, sp(7, 9))


@pytest.mark.parametrize(
    "bad",
    [
        {"time_zone": "Mars/Olympus"},
        {"weekly": {"mon": [{"start": "10:00", "end": "09:00"}]}},
        {"weekly": {"mon": [{"start": "08:00", "end": "12:00"}, {"start": "11:00", "end": "13:00"}]}},
        {"weekly": {"mon": [{"start": "8h", "end": "12:00"}]}},
        {"weekly": {"mon": [{"start": "08:00", "end": "24:01"}]}},
        {"weekly": {"funday": []}},
        {"holidays": [{"date": "2026-13-01", "name": "x"}]},
    ],
)
def test_nonsense_schedules_are_refused(bad: dict[str, object]) -> None:
    with pytest.raises(ValidationError):
        Schedule.model_validate(bad)
    assert Schedule.model_validate({"weekly": {"mon": [{"start": "00:00", "end": "24:00"}]}})
