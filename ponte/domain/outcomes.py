"""What became of one webhook: the explicit outcomes of normalization."""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel, ConfigDict

from ponte.domain.events import CanonicalEvent


class Outcome(StrEnum):
    ACCEPTED = "accepted"  # normalized; events handed to the ingest queue
    IGNORED = "ignored"  # known but not handled, or dropped by the privacy gate
    REJECTED = "rejected"  # anomalous payload: 4xx with a machine code


class Normalized(BaseModel):
    """The result of running one provider normalizer over one payload."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    outcome: Outcome
    events: tuple[CanonicalEvent, ...] = ()
    reason: str | None = None  # machine code for ignored / rejected
    detail: str | None = None  # human-readable, never a phone or message text
    event_name: str | None = None
