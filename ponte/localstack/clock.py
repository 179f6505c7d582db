"""A wall clock the local stack's tests can move: real time plus an offset (never backwards by itself).

The campaign sender and the campaign routes read it, so that a test sets "21:00 in São Paulo",
sees quiet hours hold a campaign, then moves to "08:00 next day" and sees it send. Everything
else (the outbox, ingest, the database's ``now()``) keeps real time.
"""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

from ponte.ports.clock import Clock


class ControllableClock(Clock):
    def __init__(self) -> None:
        self._offset = timedelta(0)
        self._lock = threading.Lock()

    def now(self) -> datetime:
        with self._lock:
            offset = self._offset
        return datetime.now(tz=UTC) + offset

    def set(self, moment: datetime) -> None:
        """From now on the clock reads ``moment`` (and runs on from there)."""
        if moment.tzinfo is None:
            raise ValueError("an aware datetime is required")
        with self._lock:
            self._offset = moment - datetime.now(tz=UTC)

    def reset(self) -> None:
        with self._lock:
            self._offset = timedelta(0)
