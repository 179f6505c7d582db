"""The privacy gate and the hand-over to the ingest queue: what a normalized webhook becomes.

Shared by the webhook intake and the quarantine replay, so that a replayed payload passes
exactly the checks a live one does.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ponte.domain.envelope import IngestEnvelope
from ponte.domain.instances import InstanceRecord
from ponte.domain.outcomes import Normalized, Outcome
from ponte.domain.privacy import identities_screened, screen_all
from ponte.ports.clock import Clock
from ponte.ports.privacy import PrivacySettings
from ponte.ports.queue import EventQueue
from ponte.services.exceptions import QueueUnavailableError, UnprocessableError


@dataclass(frozen=True)
class WebhookResponse:
    status_code: int
    body: dict[str, Any]
    headers: dict[str, str] = field(default_factory=dict)


class EventGate:
    def __init__(self, *, privacy: PrivacySettings, queue: EventQueue, clock: Clock) -> None:
        self._privacy = privacy
        self._queue = queue
        self._clock = clock

    def dispatch(self, instance: InstanceRecord, normalized: Normalized) -> WebhookResponse:
        """Accepted events that pass the gate are enqueued; raises ``UnprocessableError`` for a
        rejected normalization and ``QueueUnavailableError`` when the queue refuses."""
        if normalized.outcome is Outcome.REJECTED:
            raise UnprocessableError(normalized.detail or "anomalous payload", code=normalized.reason or "anomalous")
        if normalized.outcome is Outcome.IGNORED:
            return WebhookResponse(200, {"outcome": "ignored", "reason": normalized.reason})
        policy = self._privacy.policy(instance.tenant_id)
        named = {i for event in normalized.events for i in identities_screened(event)}
        hidden = self._privacy.hidden_among(instance.tenant_id, sorted(named))
        kept, dropped = screen_all(normalized.events, policy, hidden)
        if not kept:
            return WebhookResponse(200, {"outcome": "ignored", "reason": dropped[0] if dropped else "no_events"})
        now = self._clock.now()
        envelopes = [
            IngestEnvelope(tenant_id=instance.tenant_id, instance_id=instance.id, received_at=now, event=e)
            for e in kept
        ]
        self.enqueue(envelopes)
        return WebhookResponse(200, {"outcome": "accepted", "events": len(kept), "dropped": len(dropped)})

    def enqueue(self, envelopes: list[IngestEnvelope]) -> None:
        try:
            self._queue.publish(envelopes)
        except Exception as exc:  # any adapter failure: the gateway must retry, nothing is acknowledged
            raise QueueUnavailableError("the ingest queue did not accept the events") from exc
