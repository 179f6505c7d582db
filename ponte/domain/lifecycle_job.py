"""What travels on the lifecycle queue (``ponte-lifecycle``): pointers, never message text.

- ``messages``: messages newly stored in one conversation by one ingest unit (the after-commit
  hook of ``IngestService``): inbound ones open, reopen or wake it and start the reply clock;
  outbound ones typed outside Ponte (the phone) stop it.
- ``analyzed``: the analyze function stored a message's analysis: routing can run.
- ``resolved``: an agent resolved it: the CSAT question goes out (when the tenant turned it on).
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class MessageSignal(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    message_id: str
    inbound: bool
    kind: str  # text, image, reaction, ...
    occurred_at: datetime


class LifecycleJob(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    version: int = 1
    kind: Literal["messages", "analyzed", "resolved"]
    tenant_id: str
    conversation_id: str
    messages: tuple[MessageSignal, ...] = Field(default=(), max_length=500)
    message_id: str | None = None  # analyzed: the analysed message
    cycle: int | None = None  # resolved: the cycle that was resolved
