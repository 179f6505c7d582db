from __future__ import annotations

import time
from datetime import UTC, datetime


class Clock:
    """Wall and monotonic time; tests pass a fake."""

    def now(self) -> datetime:
        return datetime.now(tz=UTC)

    def monotonic(self) -> float:
        return time.monotonic()
