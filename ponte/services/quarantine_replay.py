"""Replay quarantined payloads after a normalizer fix: normalize again, then the same privacy
gate and queue hand-over as a live webhook. Each entry is marked with what became of it."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ponte.domain.envelope import decode_envelopes
from ponte.domain.outcomes import Normalized
from ponte.domain.quarantine import QuarantinedPayload
from ponte.ports.instances import InstanceDirectory
from ponte.ports.quarantine import QuarantineStore
from ponte.services.cloud_webhooks import CloudWebhooks
from ponte.services.exceptions import QueueUnavailableError, ServiceError
from ponte.services.gate import EventGate
from ponte.services.ingest_failures import INGEST_PROVIDER
from ponte.services.json_body import parse_json_body


@dataclass(frozen=True)
class ReplayResult:
    entry_id: int
    outcome: str  # accepted / ignored / rejected / skipped; "pending" when the queue was down
    reason: str | None = None


class QuarantineReplayService:
    def __init__(
        self,
        *,
        quarantine: QuarantineStore,
        instances: InstanceDirectory,
        normalize: Callable[[str, Any, str], Normalized],
        gate: EventGate,
        cloud: CloudWebhooks | None = None,
    ) -> None:
        self._cloud = cloud
        self._quarantine = quarantine
        self._instances = instances
        self._normalize = normalize
        self._gate = gate

    def replay(self, *, tenant_id: str | None = None, limit: int = 100) -> list[ReplayResult]:
        return [self.replay_one(entry) for entry in self._quarantine.pending(tenant_id=tenant_id, limit=limit)]

    def replay_one(self, entry: QuarantinedPayload) -> ReplayResult:
        result = self._run(entry)
        if result.outcome != "pending":  # a queue outage leaves the entry for the next replay
            self._quarantine.mark_replayed(entry.id, result.outcome, result.reason)
        return result

    def _run(self, entry: QuarantinedPayload) -> ReplayResult:
        if entry.truncated:
            return ReplayResult(entry.id, "skipped", "truncated")
        instance = self._instances.find(entry.instance_id) if entry.instance_id else None
        if instance is None or instance.tenant_id != entry.tenant_id:
            return ReplayResult(entry.id, "skipped", "instance_gone")
        if entry.provider == INGEST_PROVIDER:
            return self._requeue(entry)
        try:
            payload = parse_json_body(entry.raw_payload.encode("utf-8", "replace"))
        except ServiceError as exc:
            return ReplayResult(entry.id, "rejected", exc.code)
        normalized = self._normalize(entry.provider, payload, instance.gateway_instance)
        # a Cloud API body is split by phone number as a live one is (other numbers refused)
        routes = [(instance, normalized)]
        if entry.provider == "cloud" and self._cloud is not None:
            routes, refused = self._cloud.route(instance, normalized)
            if not routes and refused:
                return ReplayResult(entry.id, "ignored", "phone_number_not_routed")
        outcomes: list[tuple[str, str | None]] = []
        try:
            for target, part in routes:
                response = self._gate.dispatch(target, part)
                outcomes.append((str(response.body["outcome"]), response.body.get("reason")))
        except QueueUnavailableError:
            return ReplayResult(entry.id, "pending", "queue_unavailable")
        except ServiceError as exc:
            return ReplayResult(entry.id, "rejected", exc.code)
        accepted = [o for o in outcomes if o[0] == "accepted"]
        outcome, reason = accepted[0] if accepted else outcomes[0]
        return ReplayResult(entry.id, outcome, reason)

    def _requeue(self, entry: QuarantinedPayload) -> ReplayResult:
        """An event that failed at ingest goes back to the ingest queue as it was accepted."""
        try:
            envelopes = decode_envelopes(entry.raw_payload)
        except ValueError:
            return ReplayResult(entry.id, "rejected", "invalid_envelope")
        try:
            self._gate.enqueue(envelopes)
        except QueueUnavailableError:
            return ReplayResult(entry.id, "pending", "queue_unavailable")
        return ReplayResult(entry.id, "accepted", None)
