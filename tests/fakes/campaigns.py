"""In-memory fakes of the campaign ports: the queue (jobs with their delays) and a settable clock."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

from ponte.domain.campaign_job import CampaignJob
from ponte.ports.campaigns import CampaignQueue, Rewriter, RewriteUnavailableError
from ponte.ports.clock import Clock


class FakeCampaignQueue(CampaignQueue):
    def __init__(self) -> None:
        self.jobs: list[tuple[CampaignJob, int]] = []

    def publish(self, jobs: Sequence[CampaignJob], *, delays: Sequence[int] | None = None) -> None:
        waits = list(delays) if delays is not None else [0] * len(jobs)
        assert len(waits) == len(jobs) and all(0 <= d <= 900 for d in waits)
        self.jobs.extend(zip(jobs, waits, strict=True))

    def take(self) -> list[CampaignJob]:
        """Every job published so far (the queue is emptied)."""
        taken, self.jobs = [job for job, _ in self.jobs], []
        return taken


class SettableClock(Clock):
    """Wall time that only moves when told to (``sleep`` moves it too)."""

    def __init__(self, now: datetime | None = None) -> None:
        self.at = now or datetime.now(UTC)

    def now(self) -> datetime:
        return self.at

    def advance(self, seconds: float) -> None:
        self.at += timedelta(seconds=seconds)

    def sleep(self, seconds: float) -> None:
        self.advance(seconds)


class FakeRewriter(Rewriter):
    """Answers ``answer(text)``; raises when ``answer`` is None (the worker is down)."""

    def __init__(self, answer: object = None) -> None:
        self.answer = answer
        self.calls: list[str] = []

    def rewrite(self, text: str, *, name: str | None, max_chars: int) -> str:
        self.calls.append(text)
        if self.answer is None:
            raise RewriteUnavailableError("down")
        return str(self.answer(text) if callable(self.answer) else self.answer)
