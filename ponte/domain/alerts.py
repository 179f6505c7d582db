"""Operations alerts for the admins' topic (``tenant:<id>:admin``), each raised once:

- ``sla_warning``: a customer still waits and 80 % of the conversation's SLA is gone (once per due time);
- ``sla_breached``: the SLA broke with the customer still waiting (once per due time);
- ``queue_long``: a team's queue holds at least ``queue_long_threshold`` conversations (once until
  it is back under the threshold);
- ``negative_spike``: at least ``negative_spike_count`` negative customer messages on one instance
  within ``negative_spike_window_minutes`` (once per window);
- ``instance_disconnected``: a WhatsApp instance lost its session (once until it reconnects).
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field

from ponte.domain.scoring import SLA, Priority

SLA_WARNING_SHARE = 0.8


class AlertKind(StrEnum):
    SLA_WARNING = "sla_warning"
    SLA_BREACHED = "sla_breached"
    QUEUE_LONG = "queue_long"
    NEGATIVE_SPIKE = "negative_spike"
    INSTANCE_DISCONNECTED = "instance_disconnected"


class AlertThresholds(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    queue_long_threshold: int = Field(default=10, ge=1, le=100_000)
    negative_spike_count: int = Field(default=5, ge=1, le=100_000)
    negative_spike_window_minutes: int = Field(default=15, ge=1, le=1440)


def sla_warning_at(due: datetime, priority: Priority, share: float = SLA_WARNING_SHARE) -> datetime:
    """When ``share`` of the SLA is gone: its due time less the rest of its duration."""
    return due - SLA[priority] * (1 - share)


def sla_warning_leads() -> dict[str, float]:
    """Seconds before the due time at which each priority's warning goes (the SQL sweep reads these)."""
    return {p.value: (SLA[p] * (1 - SLA_WARNING_SHARE)).total_seconds() for p in Priority}


def window_start(at: datetime, minutes: int) -> datetime:
    """The start of the fixed window of ``minutes`` holding ``at`` (a spike alert is once per window)."""
    epoch = at.timestamp()
    return datetime.fromtimestamp(epoch - epoch % (minutes * 60), tz=at.tzinfo)
