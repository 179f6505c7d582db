"""What ``ponte up`` started stays up: a child that dies is restarted with backoff.

Each child (a process such as moto or the inference worker, or a thread such as a queue
poller) is checked twice a second. A dead one is logged once, restarted after a growing
pause, and counted; one that dies more than ``max_restarts`` times within ``window``
seconds is given up on: the supervisor records why and sets ``failed``, and ``ponte up``
stops the stack with that message and a non-zero exit, instead of logging the same
failure forever.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Child:
    name: str
    alive: Callable[[], bool]
    restart: Callable[[], object]  # what it returns is ignored
    # how it died, for the log line ("exited with -9")
    exit_reason: Callable[[], str] = lambda: "stopped"


@dataclass(frozen=True)
class Restart:
    child: str
    attempt: int
    reason: str
    ok: bool


@dataclass
class Supervisor:
    children: Sequence[Child]
    logger: Any
    backoff: Sequence[float] = (0.5, 1.0, 2.0, 4.0, 8.0)
    max_restarts: int = 5
    window: float = 120.0
    interval: float = 0.5
    restarts: list[Restart] = field(default_factory=list, init=False)
    failure: str | None = field(default=None, init=False)
    failed: threading.Event = field(default_factory=threading.Event, init=False)
    _stop: threading.Event = field(default_factory=threading.Event, init=False)
    _thread: threading.Thread | None = field(default=None, init=False)
    _deaths: dict[str, deque[float]] = field(default_factory=dict, init=False)

    def start(self) -> Supervisor:
        self._thread = threading.Thread(target=self._run, name="supervisor", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout=30)
        self._thread = None

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            for child in self.children:
                if self._stop.is_set() or self.failed.is_set():
                    return
                if not child.alive():
                    self._revive(child, child.exit_reason())

    def _revive(self, child: Child, reason: str) -> None:
        """Restart ``child`` until it is up, it has died too often, or the stack stops."""
        while not self._stop.is_set():
            deaths = self._deaths.setdefault(child.name, deque())
            now = time.monotonic()
            deaths.append(now)
            while deaths and now - deaths[0] > self.window:
                deaths.popleft()
            attempt = len(deaths)
            if attempt > self.max_restarts:
                self.failure = (
                    f"{child.name} died {attempt} times within {self.window:.0f}s (last: {reason});"
                    " the local stack is stopping"
                )
                self.logger.error("giving up on a child of the local stack", extra={"child": child.name})
                self.failed.set()
                return
            pause = self.backoff[min(attempt, len(self.backoff)) - 1]
            self.logger.warning(
                "a child of the local stack died; restarting it",
                extra={"child": child.name, "reason": reason, "attempt": attempt, "in_seconds": pause},
            )
            if self._stop.wait(pause):
                return
            try:
                child.restart()
            except Exception as exc:  # it did not come back: counted as another death
                reason = f"restart failed: {exc}"
                self.restarts.append(Restart(child.name, attempt, reason, ok=False))
                continue
            self.restarts.append(Restart(child.name, attempt, reason, ok=True))
            return
