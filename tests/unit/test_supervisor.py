"""The local stack's supervisor: a dead child comes back after a pause, once logged per restart;
one that keeps dying is given up on with a reason, so ``ponte up`` can stop cleanly."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

import pytest

from ponte.localstack.supervisor import Child, Supervisor


class Flaky:
    """A child that is down until restarted; ``fail_restarts`` restarts raise first."""

    def __init__(self, fail_restarts: int = 0) -> None:
        self.up = True
        self.restarted = 0
        self.fail_restarts = fail_restarts

    def restart(self) -> None:
        if self.fail_restarts:
            self.fail_restarts -= 1
            raise RuntimeError("port still taken")
        self.restarted += 1
        self.up = True

    def child(self, name: str = "moto") -> Child:
        return Child(name, lambda: self.up, self.restart, lambda: "exited with -9")


def wait(condition: Callable[[], bool], timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.01)


def supervisor(*children: Child, **kwargs: object) -> Supervisor:
    options: dict[str, object] = {"backoff": (0.01, 0.02), "interval": 0.01, "max_restarts": 3, "window": 60.0}
    options.update(kwargs)
    return Supervisor(list(children), logging.getLogger("test-supervisor"), **options).start()  # type: ignore[arg-type]


def test_a_dead_child_is_restarted_and_logged_once(caplog: pytest.LogCaptureFixture) -> None:
    flaky, steady = Flaky(), Flaky()
    caplog.set_level(logging.WARNING, "test-supervisor")
    sup = supervisor(flaky.child(), steady.child("worker"))
    try:
        flaky.up = False
        wait(lambda: flaky.restarted == 1)
        time.sleep(0.1)  # it stays up: no second restart, no more lines
        assert [(r.child, r.attempt, r.ok) for r in sup.restarts] == [("moto", 1, True)]
        assert steady.restarted == 0 and not sup.failed.is_set()
        lines = [r for r in caplog.records if r.name == "test-supervisor"]
        assert len(lines) == 1 and lines[0].child == "moto" and lines[0].reason == "exited with -9"  # type: ignore[attr-defined]
    finally:
        sup.stop()


def test_a_restart_that_fails_is_tried_again_with_a_longer_pause() -> None:
    flaky = Flaky(fail_restarts=1)
    sup = supervisor(flaky.child())
    try:
        flaky.up = False
        wait(lambda: flaky.restarted == 1)
        assert [(r.attempt, r.ok) for r in sup.restarts] == [(1, False), (2, True)]
        assert "port still taken" in sup.restarts[0].reason
    finally:
        sup.stop()


def test_a_child_that_keeps_dying_is_given_up_on_with_its_reason() -> None:
    flaky = Flaky(fail_restarts=100)
    sup = supervisor(flaky.child())
    try:
        flaky.up = False
        assert sup.failed.wait(5)
        assert sup.failure is not None and "moto died 4 times" in sup.failure and "port still taken" in sup.failure
        assert len(sup.restarts) == 3  # max_restarts attempts, then no more
        time.sleep(0.05)
        assert len(sup.restarts) == 3
    finally:
        sup.stop()


def test_deaths_outside_the_window_are_forgotten() -> None:
    flaky = Flaky()
    sup = supervisor(flaky.child(), max_restarts=1, window=0.05)
    try:
        for n in range(1, 4):
            flaky.up = False
            wait(lambda n=n: flaky.restarted == n)  # type: ignore[misc]
            time.sleep(0.08)
        assert not sup.failed.is_set()
    finally:
        sup.stop()
