"""Webhook intake: authenticate the gateway, normalize, apply the privacy gate, enqueue.

Every call ends in exactly one outcome and leaves one diagnostics row.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from ponte.domain.diagnostics import DiagnosticsEntry
from ponte.domain.instances import InstanceRecord
from ponte.domain.outcomes import Normalized
from ponte.domain.privacy import may_keep_raw
from ponte.domain.quarantine import MAX_QUARANTINE_BYTES, QuarantineEntry
from ponte.ports.clock import Clock
from ponte.ports.diagnostics import DiagnosticsLog
from ponte.ports.instances import InstanceDirectory
from ponte.ports.privacy import PrivacySettings
from ponte.ports.quarantine import QuarantineStore
from ponte.ports.queue import EventQueue
from ponte.services.cloud_webhooks import VERIFY_ROUTE, CloudWebhooks, Handshake
from ponte.services.exceptions import (
    BadRequestError,
    PayloadTooLargeError,
    RateLimitedError,
    ServiceError,
    UnauthorizedError,
    UnprocessableError,
)
from ponte.services.gate import EventGate, WebhookResponse
from ponte.services.json_body import parse_json_body
from ponte.services.rate_limit import InstanceRateLimiter
from ponte.services.webhook_signatures import valid_body_signature, valid_evolution_jwt

logger = logging.getLogger(__name__)

SECRET_HEADER = "x-ponte-webhook-secret"
ROUTE = "POST /webhooks/{provider}/{instance}"

NormalizeFn = Callable[[str, Any], Normalized]

# One body may carry at most this many canonical events (an Evolution ``data`` array, a contact
# sync). A larger one is answered 413 ``too_many_events`` and quarantined whole, so nothing is lost;
# under the cap a body is screened with one hidden-list look-up and enqueued 10 events per call.
MAX_EVENTS_PER_BODY = 5000


@dataclass(frozen=True)
class WebhookRequest:
    provider: str
    instance_id: str
    body: bytes
    headers: Mapping[str, str] = field(default_factory=dict)
    path_secret: str | None = None


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
        quarantine: QuarantineStore | None = None,
        max_events: int = MAX_EVENTS_PER_BODY,
        limiter: InstanceRateLimiter | None = None,
        cloud: CloudWebhooks | None = None,
    ) -> None:
        self._cloud = cloud
        self._max_events = max_events
        self._limiter = limiter
        self._instances = instances
        self._normalize = normalize
        self._diagnostics = diagnostics
        self._privacy = privacy
        self._clock = clock or Clock()
        self._gate = EventGate(privacy=privacy, queue=queue, clock=self._clock)
        self._quarantine_store = quarantine
        self._max_body_bytes = max_body_bytes

    def handle(self, request: WebhookRequest) -> WebhookResponse:
        """Never raises: every request ends in one response and (best effort) one diagnostics row."""
        started = self._clock.monotonic()
        instance: InstanceRecord | None = None
        event_name: str | None = None
        quarantine: str | None = None
        try:
            if len(request.body) > self._max_body_bytes:
                raise PayloadTooLargeError(f"body over {self._max_body_bytes} bytes")
            instance = self._authenticate(request)
            self._verify_signature(instance, request)
            self._admit(instance)
            try:
                payload = parse_json_body(request.body)
                normalized = self._normalize(request.provider, payload, instance.gateway_instance)
                event_name = normalized.event_name
                if self._limiter is not None:
                    self._limiter.charge(instance.id, len(normalized.events))
                if len(normalized.events) > self._max_events:
                    raise TooManyEventsError(f"a body may carry at most {self._max_events} events")
                response = self._dispatch(instance, request.provider, normalized)
            except (BadRequestError, UnprocessableError, TooManyEventsError) as exc:
                quarantine = self._quarantine(instance, request, exc, event_name)
                raise
            outcome, error_code = response.body["outcome"], response.body.get("reason")
        except ServiceError as exc:
            response = WebhookResponse(
                exc.status_code,
                {"outcome": "rejected", "code": exc.code, "reason": exc.message},
                {"Retry-After": str(exc.retry_after)} if isinstance(exc, RateLimitedError) else {},
            )
            outcome, error_code = "rejected", exc.code
        except Exception:  # a bug or a dependency (the database) failing: never Chalice's bare 500
            logger.exception("webhook intake failed")
            response = WebhookResponse(503, {"outcome": "rejected", "code": "unavailable", "reason": "try again later"})
            outcome, error_code = "rejected", "unavailable"
        self._record(
            DiagnosticsEntry(
                route=ROUTE,
                tenant_id=instance.tenant_id if instance else None,
                instance_id=instance.id if instance else None,
                event=event_name,
                outcome=outcome,
                status_code=response.status_code,
                latency_ms=(self._clock.monotonic() - started) * 1000,
                error_code=error_code,
                detail={"provider": request.provider, **({"quarantine": quarantine} if quarantine else {})},
            )
        )
        return response

    def handshake(self, provider: str, instance_id: str, params: Mapping[str, str]) -> Handshake:
        """Meta's GET verification of a Cloud API webhook; never raises, leaves one diagnostics row."""
        started = self._clock.monotonic()
        try:
            if provider != "cloud" or self._cloud is None:
                result = Handshake(403, "forbidden", "verification_failed")
            else:
                result = self._cloud.handshake(instance_id, dict(params))
        except Exception:  # the secret store or the database failing: Meta tries again later
            logger.exception("webhook handshake failed")
            result = Handshake(503, "try again later", "unavailable")
        self._record(
            DiagnosticsEntry(
                route=VERIFY_ROUTE,
                tenant_id=result.instance.tenant_id if result.instance else None,
                instance_id=result.instance.id if result.instance else None,
                event="verification",
                outcome="accepted" if result.status_code == 200 else "rejected",
                status_code=result.status_code,
                latency_ms=(self._clock.monotonic() - started) * 1000,
                error_code=result.error_code,
                detail={"provider": provider[:40]},
            )
        )
        return result

    def _dispatch(self, instance: InstanceRecord, provider: str, normalized: Normalized) -> WebhookResponse:
        """Through the privacy gate to the queue; a Cloud API body is first split by phone number."""
        if provider != "cloud" or self._cloud is None:
            return self._gate.dispatch(instance, normalized)
        routes, refused = self._cloud.route(instance, normalized)
        responses = [self._gate.dispatch(target, part) for target, part in routes]
        accepted = [r.body for r in responses if r.body.get("outcome") == "accepted"]
        if accepted:
            events, dropped = sum(b["events"] for b in accepted), sum(b["dropped"] for b in accepted)
            return WebhookResponse(
                200, {"outcome": "accepted", "events": events, "dropped": dropped, "refused": refused}
            )
        if refused:
            # another tenant's number, or one of another Meta app: never stored, and no retry helps
            return WebhookResponse(200, {"outcome": "ignored", "reason": "phone_number_not_routed"})
        return responses[0]

    def _record(self, entry: DiagnosticsEntry) -> None:
        """A diagnostics failure never changes what the gateway is told (the events may be queued)."""
        try:
            self._diagnostics.record(entry)
        except Exception:
            logger.exception("diagnostics write failed")

    def _admit(self, instance: InstanceRecord) -> None:
        """Before any parsing: an instance in debt (see ``rate_limit``) waits, its body unread."""
        wait = self._limiter.retry_after(instance.id) if self._limiter is not None else None
        if wait is not None:
            raise RateLimitedError("too many events from this instance; retry later", retry_after=wait)

    def _authenticate(self, request: WebhookRequest) -> InstanceRecord:
        if request.provider == "cloud":  # Meta signs the body with the app secret; no secret header
            if self._cloud is None:
                raise UnauthorizedError("unknown instance or invalid credentials")
            return self._cloud.authenticate(
                request.instance_id, dict(request.headers), request.body, request.path_secret
            )
        secret = request.path_secret or request.headers.get(SECRET_HEADER)
        instance = self._instances.find(request.instance_id)
        # Always hash and compare, so that timing does not tell unknown instance from wrong secret.
        expected = instance.webhook_secret_hash if instance else hash_secret("\0no-instance")
        given = hash_secret(secret or "")
        valid = hmac.compare_digest(given, expected)
        if instance is None or not valid or not secret or instance.provider.value != request.provider:
            raise UnauthorizedError("unknown instance or invalid credentials")
        return instance

    def _verify_signature(self, instance: InstanceRecord, request: WebhookRequest) -> None:
        """Optional per instance, on top of the secret: see ``webhook_signatures``."""
        if instance.hmac_key is None:
            return
        key = instance.hmac_key.get_secret_value()
        if instance.signature_scheme == "evolution-jwt":
            valid = valid_evolution_jwt(request.headers.get("authorization"), key, now=self._clock.now())
        else:
            valid = valid_body_signature(request.headers.get(instance.signature_header.lower()), key, request.body)
        if not valid:
            raise UnauthorizedError("unknown instance or invalid credentials")

    def _quarantine(
        self, instance: InstanceRecord, request: WebhookRequest, exc: ServiceError, event: str | None
    ) -> str:
        """Keep a payload that failed normalization for replay, unless privacy forbids keeping it.

        Returns what happened, for the diagnostics row. A failure here never changes the answer
        to the gateway (the payload was rejected either way).
        """
        if self._quarantine_store is None:
            return "disabled"
        try:
            raw = request.body.decode("utf-8", errors="replace")
            policy = self._privacy.policy(instance.tenant_id)
            if not may_keep_raw(raw, policy, lambda ids: self._privacy.is_hidden(instance.tenant_id, ids)):
                return "skipped_privacy"
            self._quarantine_store.put(
                QuarantineEntry.capped(
                    request.body,
                    limit=self._max_body_bytes if isinstance(exc, TooManyEventsError) else MAX_QUARANTINE_BYTES,
                    tenant_id=instance.tenant_id,
                    instance_id=instance.id,
                    provider=request.provider,
                    reason_code=exc.code,
                    detail=exc.message,
                    event=event,
                )
            )
        except Exception:
            logger.exception("quarantine write failed")
            return "failed"
        return "stored"


class TooManyEventsError(PayloadTooLargeError):
    code = "too_many_events"
