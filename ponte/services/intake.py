"""Webhook intake: authenticate the gateway, normalize, apply the privacy gate, enqueue.

Every call ends in exactly one outcome and leaves one diagnostics row.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from ponte.domain.diagnostics import DiagnosticsEntry
from ponte.domain.envelope import IngestEnvelope
from ponte.domain.events import CanonicalEvent
from ponte.domain.instances import InstanceRecord
from ponte.domain.outcomes import Normalized, Outcome
from ponte.domain.privacy import screen
from ponte.ports.clock import Clock
from ponte.ports.diagnostics import DiagnosticsLog
from ponte.ports.instances import InstanceDirectory
from ponte.ports.privacy import PrivacySettings
from ponte.ports.queue import EventQueue
from ponte.services.exceptions import (
    BadRequestError,
    PayloadTooLargeError,
    QueueUnavailableError,
    ServiceError,
    UnauthorizedError,
    UnprocessableError,
)

SECRET_HEADER = "x-ponte-webhook-secret"
ROUTE = "POST /webhooks/{provider}/{instance}"

NormalizeFn = Callable[[str, Any], Normalized]


@dataclass(frozen=True)
class WebhookRequest:
    provider: str
    instance_id: str
    body: bytes
    headers: Mapping[str, str] = field(default_factory=dict)
    path_secret: str | None = None


@dataclass(frozen=True)
class WebhookResponse:
    status_code: int
    body: dict[str, Any]


def hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


class IntakeService:
    def __init__(
        self,
        *,
        instances: InstanceDirectory,
        normalize: Callable[[str, Any, str], Normalized],
        queue: EventQueue,
        diagnostics: DiagnosticsLog,
        privacy: PrivacySettings,
        clock: Clock | None = None,
        max_body_bytes: int = 1024 * 1024,
    ) -> None:
        self._instances = instances
        self._normalize = normalize
        self._queue = queue
        self._diagnostics = diagnostics
        self._privacy = privacy
        self._clock = clock or Clock()
        self._max_body_bytes = max_body_bytes

    def handle(self, request: WebhookRequest) -> WebhookResponse:
        started = self._clock.monotonic()
        instance: InstanceRecord | None = None
        event_name: str | None = None
        try:
            if len(request.body) > self._max_body_bytes:
                raise PayloadTooLargeError(f"body over {self._max_body_bytes} bytes")
            instance = self._authenticate(request)
            payload = _parse_json(request.body)
            normalized = self._normalize(request.provider, payload, instance.gateway_instance)
            event_name = normalized.event_name
            response = self._dispatch(instance, normalized)
            outcome, error_code = response.body["outcome"], response.body.get("reason")
        except ServiceError as exc:
            response = WebhookResponse(
                exc.status_code, {"outcome": "rejected", "code": exc.code, "reason": exc.message}
            )
            outcome, error_code = "rejected", exc.code
        self._diagnostics.record(
            DiagnosticsEntry(
                route=ROUTE,
                tenant_id=instance.tenant_id if instance else None,
                instance_id=instance.id if instance else None,
                event=event_name,
                outcome=outcome,
                status_code=response.status_code,
                latency_ms=(self._clock.monotonic() - started) * 1000,
                error_code=error_code,
                detail={"provider": request.provider},
            )
        )
        return response

    def _authenticate(self, request: WebhookRequest) -> InstanceRecord:
        secret = request.path_secret or request.headers.get(SECRET_HEADER)
        instance = self._instances.find(request.instance_id)
        # Always hash and compare, so that timing does not tell unknown instance from wrong secret.
        expected = instance.webhook_secret_hash if instance else hash_secret("\0no-instance")
        given = hash_secret(secret or "")
        valid = hmac.compare_digest(given, expected)
        if instance is None or not valid or not secret or instance.provider.value != request.provider:
            raise UnauthorizedError("unknown instance or invalid credentials")
        return instance

    def _dispatch(self, instance: InstanceRecord, normalized: Normalized) -> WebhookResponse:
        if normalized.outcome is Outcome.REJECTED:
            raise UnprocessableError(normalized.detail or "anomalous payload", code=normalized.reason or "anomalous")
        if normalized.outcome is Outcome.IGNORED:
            return WebhookResponse(200, {"outcome": "ignored", "reason": normalized.reason})
        policy = self._privacy.policy(instance.tenant_id)
        kept: list[CanonicalEvent] = []
        dropped: list[str] = []
        for event in normalized.events:
            passed, reasons = screen(event, policy, lambda ids: self._privacy.is_hidden(instance.tenant_id, ids))
            if passed is not None:
                kept.append(passed)
            dropped.extend(reasons)
        if not kept:
            return WebhookResponse(200, {"outcome": "ignored", "reason": dropped[0] if dropped else "no_events"})
        now = self._clock.now()
        envelopes = [
            IngestEnvelope(tenant_id=instance.tenant_id, instance_id=instance.id, received_at=now, event=e)
            for e in kept
        ]
        try:
            self._queue.publish(envelopes)
        except Exception as exc:  # any adapter failure: the gateway must retry, nothing is acknowledged
            raise QueueUnavailableError("the ingest queue did not accept the events") from exc
        return WebhookResponse(200, {"outcome": "accepted", "events": len(kept), "dropped": len(dropped)})


def _parse_json(body: bytes) -> Any:
    try:
        return json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise BadRequestError(f"invalid JSON: {exc.__class__.__name__}", code="invalid_json") from exc
