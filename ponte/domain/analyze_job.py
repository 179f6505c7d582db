"""What travels on the analyze queue: a pointer to a stored message, never its text."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class AnalyzeJob(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    version: int = 1
    tenant_id: str
    message_id: str
    # 0 for the first try; the degraded path re-enqueues with attempt + 1 and a delay
    attempt: int = Field(default=0, ge=0)

    def retry(self) -> AnalyzeJob:
        return self.model_copy(update={"attempt": self.attempt + 1})


def retry_delay_seconds(attempt: int, base: int = 30, cap: int = 900) -> int:
    """Exponential back-off for the full analysis after a degraded one (SQS allows up to 900 s)."""
    return int(min(cap, base * 2 ** max(0, attempt)))
