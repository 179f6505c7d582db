"""Message times in UTC from gateway timestamps (seconds, milliseconds, protobuf Long)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

_MS_THRESHOLD = 10_000_000_000  # anything above is milliseconds (year 2286 in seconds)


def utc_from_timestamp(value: Any) -> datetime | None:
    """Seconds or milliseconds, as number, numeric string or ``{"low","high","unsigned"}`` Long."""
    if type(value) is int and 0 < value <= _MS_THRESHOLD:  # the common case: plain seconds
        return datetime.fromtimestamp(value, UTC)
    if isinstance(value, dict):
        low, high = value.get("low"), value.get("high")
        if not isinstance(low, int) or isinstance(low, bool):
            return None
        value = ((high if isinstance(high, int) and not isinstance(high, bool) else 0) << 32) | (low & 0xFFFFFFFF)
    if isinstance(value, bool):
        return None
    if isinstance(value, str):
        try:
            value = float(value.strip())
        except ValueError:
            return None
    if not isinstance(value, int | float) or value <= 0:
        return None
    seconds = value / 1000 if value > _MS_THRESHOLD else value
    try:
        return datetime.fromtimestamp(seconds, UTC)
    except (OverflowError, OSError, ValueError):
        return None
