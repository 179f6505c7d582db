"""The Cloud API's side of the webhook intake: the verification handshake, authenticity, routing.

- ``GET`` handshake: Meta sends ``hub.mode=subscribe``, ``hub.verify_token`` and
  ``hub.challenge`` when an app's webhook is configured; the challenge is echoed as plain text
  when the token matches the instance's (constant time), otherwise 403.
- Authenticity: every POST carries ``X-Hub-Signature-256: sha256=<HMAC-SHA256(app secret, raw
  body)>``, checked over the raw bytes before anything is parsed; a missing or wrong one is the
  same 401 as an unknown instance (the timing does not tell them apart either).
- Routing: one Meta app's webhook carries every phone number of the app. Each change names its
  number (``metadata.phone_number_id``, the events' ``instance``); the URL's instance takes its
  own number's events, and a sibling instance of the same tenant takes its number's -- only when
  it belongs to the same Meta app (the same app secret signed the body). Any other change is
  refused: never stored under the URL's instance, never under another tenant's.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass

from ponte.domain.cloud import CloudCredentials
from ponte.domain.events import Provider
from ponte.domain.instances import InstanceRecord
from ponte.domain.outcomes import Normalized, Outcome
from ponte.ports.cloud import CloudCredentialStore
from ponte.ports.instances import InstanceDirectory
from ponte.services.exceptions import UnauthorizedError
from ponte.services.webhook_signatures import valid_body_signature

SIGNATURE_HEADER = "x-hub-signature-256"
VERIFY_ROUTE = "GET /webhooks/{provider}/{instance}"
MAX_CHALLENGE = 256
_NO_KEY = "\0no-instance-app-secret"


@dataclass(frozen=True)
class Handshake:
    status_code: int
    text: str
    error_code: str | None = None
    instance: InstanceRecord | None = None


def _same(given: str, expected: str) -> bool:
    """Constant time whatever the lengths: both sides are hashed first."""
    return hmac.compare_digest(hashlib.sha256(given.encode()).digest(), hashlib.sha256(expected.encode()).digest())


class CloudWebhooks:
    def __init__(self, *, instances: InstanceDirectory, credentials: CloudCredentialStore) -> None:
        self._instances = instances
        self._credentials = credentials

    def _cloud_instance(self, instance_id: str) -> tuple[InstanceRecord | None, CloudCredentials | None]:
        instance = self._instances.find(instance_id)
        if instance is None or instance.provider is not Provider.CLOUD:
            return None, None
        return instance, self._credentials.credentials(instance.credentials_secret_name)

    def handshake(self, instance_id: str, params: dict[str, str]) -> Handshake:
        """The answer to Meta's GET: the challenge as text, or 403 (400 for an unusable challenge)."""
        instance, credentials = self._cloud_instance(instance_id)
        expected = credentials.verify_token.get_secret_value() if credentials else _NO_KEY
        token_ok = _same(params.get("hub.verify_token") or "", expected)
        if credentials is None or not token_ok or params.get("hub.mode") != "subscribe":
            return Handshake(403, "forbidden", "verification_failed", instance)
        challenge = params.get("hub.challenge") or ""
        if not challenge or len(challenge) > MAX_CHALLENGE or not (challenge.isascii() and challenge.isprintable()):
            return Handshake(400, "invalid challenge", "invalid_challenge", instance)
        return Handshake(200, challenge, None, instance)

    def authenticate(
        self, instance_id: str, headers: dict[str, str], body: bytes, path_secret: str | None
    ) -> InstanceRecord:
        """The URL's instance when the body is signed with its app's secret; 401 otherwise."""
        instance, credentials = self._cloud_instance(instance_id)
        key = credentials.app_secret.get_secret_value() if credentials else _NO_KEY
        # always computed, so that an unknown instance costs what a wrong signature does
        valid = valid_body_signature(headers.get(SIGNATURE_HEADER), key, body)
        header = headers.get(SIGNATURE_HEADER) or ""
        if instance is None or credentials is None or not valid or not header or path_secret is not None:
            raise UnauthorizedError("unknown instance or invalid credentials")
        return instance

    def route(
        self, instance: InstanceRecord, normalized: Normalized
    ) -> tuple[list[tuple[InstanceRecord, Normalized]], int]:
        """Each accepted event to the instance of its phone number; and how many were refused."""
        if normalized.outcome is not Outcome.ACCEPTED:
            return [(instance, normalized)], 0
        groups: dict[str, list[int]] = {}
        for index, event in enumerate(normalized.events):
            groups.setdefault(event.instance, []).append(index)
        routes: list[tuple[InstanceRecord, Normalized]] = []
        refused = 0
        for number, indexes in groups.items():
            target = instance if number == instance.gateway_instance else self._sibling(instance, number)
            if target is None:
                refused += len(indexes)
                continue
            events = tuple(normalized.events[i] for i in indexes)
            routes.append((target, normalized.model_copy(update={"events": events})))
        return routes, refused

    def _sibling(self, instance: InstanceRecord, number: str) -> InstanceRecord | None:
        """The tenant's instance of ``number``, when the same Meta app (app secret) owns it."""
        sibling = self._instances.find_by_gateway(instance.tenant_id, Provider.CLOUD.value, number)
        if sibling is None:
            return None
        mine = self._credentials.credentials(instance.credentials_secret_name)
        theirs = self._credentials.credentials(sibling.credentials_secret_name)
        if mine is None or theirs is None:
            return None
        same_app = _same(mine.app_secret.get_secret_value(), theirs.app_secret.get_secret_value())
        return sibling if same_app else None
