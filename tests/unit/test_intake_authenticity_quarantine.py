"""Webhook authenticity (optional HMAC-SHA256 body signature) and the quarantine of payloads that
failed normalization -- never for a hidden contact -- with their replay after a fix."""

from __future__ import annotations

import hashlib
import hmac
import json
from pathlib import Path
from typing import Any

import jwt
import pytest
from pydantic import SecretStr

from ponte.domain.events import Provider
from ponte.domain.instances import InstanceRecord
from ponte.domain.outcomes import Normalized
from ponte.domain.privacy import PrivacyPolicy
from ponte.services.gate import EventGate
from ponte.services.intake import SECRET_HEADER, IntakeService, WebhookRequest, hash_secret
from ponte.services.quarantine_replay import QuarantineReplayService
from proxy import providers
from tests.fakes.ports import FakeClock, FakeDiagnostics, FakeInstances, FakePrivacy, FakeQuarantine, FakeQueue

pytestmark = pytest.mark.unit

FIXTURES = Path(__file__).resolve().parents[2] / "proxy" / "providers" / "evolution" / "fixtures"
TEXT = (FIXTURES / "messages.upsert__text-inbound-ios__01.json").read_bytes()
NO_TIME = (FIXTURES / "messages.upsert__missing-timestamp-constructed__01.json").read_bytes()
HMAC_KEY = "k" * 32
INSTANCE = InstanceRecord(
    id="11111111-1111-4111-8111-111111111111",
    tenant_id="22222222-2222-4222-8222-222222222222",
    provider=Provider.EVOLUTION,
    gateway_instance="loja",
    webhook_secret_hash=hash_secret("s3cret"),
)
SIGNED = INSTANCE.model_copy(update={"id": "33333333-3333-4333-8333-333333333333", "hmac_key": SecretStr(HMAC_KEY)})


def real_normalize(provider: str, payload: Any, instance: str) -> Normalized:
    return providers.normalize(provider, payload, instance=instance)


class Harness:
    def __init__(self, privacy: FakePrivacy | None = None, quarantine: FakeQuarantine | None = None) -> None:
        self.queue = FakeQueue()
        self.diagnostics = FakeDiagnostics()
        self.privacy = privacy or FakePrivacy()
        self.quarantine = quarantine or FakeQuarantine()
        self.instances = FakeInstances(INSTANCE, SIGNED)
        self.service = IntakeService(
            instances=self.instances,
            normalize=real_normalize,
            queue=self.queue,
            diagnostics=self.diagnostics,
            privacy=self.privacy,
            clock=FakeClock(),
            quarantine=self.quarantine,
        )

    def post(self, body: bytes, instance: InstanceRecord = INSTANCE, **headers: str) -> Any:
        all_headers = {SECRET_HEADER: "s3cret", **headers}
        return self.service.handle(
            WebhookRequest(provider="evolution", instance_id=instance.id, body=body, headers=all_headers)
        )


def sign(body: bytes, key: str = HMAC_KEY) -> str:
    return "sha256=" + hmac.new(key.encode(), body, hashlib.sha256).hexdigest()


def test_signed_instance_accepts_a_valid_signature() -> None:
    h = Harness()
    response = h.post(TEXT, SIGNED, **{"x-ponte-signature": sign(TEXT)})
    assert response.status_code == 200, response.body
    assert response.body["outcome"] == "accepted"


@pytest.mark.parametrize(
    "signature",
    [None, "", "sha256=00", sign(TEXT, key="another-key-of-32-characters-xyz"), sign(TEXT + b" ")],
)
def test_signed_instance_rejects_a_missing_or_wrong_signature(signature: str | None) -> None:
    h = Harness()
    headers = {"x-ponte-signature": signature} if signature is not None else {}
    response = h.post(TEXT, SIGNED, **headers)
    assert response.status_code == 401
    assert response.body["code"] == "unauthorized"
    assert h.queue.published == []


def test_unsigned_instance_needs_no_signature() -> None:
    assert Harness().post(TEXT).status_code == 200


def test_anomalous_payload_is_rejected_and_quarantined_with_its_reason() -> None:
    h = Harness()
    response = h.post(NO_TIME)
    assert (response.status_code, response.body["code"]) == (422, "bad_timestamp")
    (entry,) = h.quarantine.entries
    assert (entry.tenant_id, entry.instance_id, entry.provider) == (INSTANCE.tenant_id, INSTANCE.id, "evolution")
    assert entry.reason_code == "bad_timestamp"
    assert json.loads(entry.raw_payload) == json.loads(NO_TIME)
    assert h.diagnostics.entries[0].detail == {"provider": "evolution", "quarantine": "stored"}


def test_invalid_json_is_quarantined_size_capped() -> None:
    h = Harness()
    body = b'{"event": "messages.upsert", "data": ' + b"x" * 100_000
    response = h.post(body)
    assert response.status_code == 400
    (entry,) = h.quarantine.entries
    assert entry.truncated and entry.payload_bytes == len(body)
    assert len(entry.raw_payload.encode()) == 64 * 1024


def test_a_payload_concerning_a_hidden_contact_is_never_quarantined() -> None:
    # GIVEN the sender of the anomalous payload is hidden, under its legacy JID form
    payload = json.loads(NO_TIME)
    jid = payload["data"]["key"]["remoteJid"]
    h = Harness(privacy=FakePrivacy(hidden=["+5511987650101"]))
    assert jid == "5511987650101@s.whatsapp.net"
    legacy = json.dumps(payload).replace("5511987650101", "551187650101").encode()
    # WHEN it is rejected
    response = h.post(legacy)
    # THEN the gateway gets its 422, and nothing is kept
    assert response.status_code == 422
    assert h.quarantine.entries == []
    assert h.diagnostics.entries[0].detail == {"provider": "evolution", "quarantine": "skipped_privacy"}


def test_a_group_payload_is_not_quarantined_when_the_tenant_drops_groups() -> None:
    payload = json.loads(NO_TIME)
    payload["data"]["key"]["remoteJid"] = "120363400000000009@g.us"
    h = Harness()
    assert h.post(json.dumps(payload).encode()).status_code == 422
    assert h.quarantine.entries == []
    kept = Harness(privacy=FakePrivacy(policy=PrivacyPolicy(drop_groups=False)))
    kept.post(json.dumps(payload).encode())
    assert len(kept.quarantine.entries) == 1


def test_a_failing_quarantine_does_not_change_the_answer() -> None:
    h = Harness(quarantine=FakeQuarantine(fail=True))
    response = h.post(NO_TIME)
    assert (response.status_code, response.body["code"]) == (422, "bad_timestamp")
    assert h.diagnostics.entries[0].detail == {"provider": "evolution", "quarantine": "failed"}


def test_replay_after_a_fix_enqueues_and_marks_the_entry() -> None:
    # GIVEN a payload quarantined by a normalizer that could not read it
    h = Harness()
    h.post(NO_TIME)
    assert len(h.quarantine.entries) == 1

    # WHEN the normalizer is fixed (here: it now takes the envelope's time) and the quarantine replayed
    def fixed(provider: str, payload: Any, instance: str) -> Normalized:
        payload["data"]["messageTimestamp"] = 1760973301
        return real_normalize(provider, payload, instance)

    gate = EventGate(privacy=h.privacy, queue=h.queue, clock=FakeClock())
    replay = QuarantineReplayService(quarantine=h.quarantine, instances=h.instances, normalize=fixed, gate=gate)
    results = replay.replay()
    # THEN the message is enqueued for the right tenant and the entry is marked; a second run does nothing
    assert [(r.outcome, r.reason) for r in results] == [("accepted", None)]
    assert [e.tenant_id for e in h.queue.published] == [INSTANCE.tenant_id]
    assert h.quarantine.replayed == {0: ("accepted", None)}
    assert replay.replay() == []


def test_replay_still_applies_the_privacy_gate_and_skips_truncated_entries() -> None:
    h = Harness()
    h.post(NO_TIME)
    h.post(b'{"event": "x", "pad": "' + b"y" * 70_000 + b'"')
    h.privacy.hidden.add("+5511987650101")  # hidden after the payload was quarantined

    def fixed(provider: str, payload: Any, instance: str) -> Normalized:
        payload["data"]["messageTimestamp"] = 1760973301
        return real_normalize(provider, payload, instance)

    gate = EventGate(privacy=h.privacy, queue=h.queue, clock=FakeClock())
    replay = QuarantineReplayService(quarantine=h.quarantine, instances=h.instances, normalize=fixed, gate=gate)
    results = [(r.outcome, r.reason) for r in replay.replay()]
    assert results == [("ignored", "hidden_contact"), ("skipped", "truncated")]
    assert h.queue.published == []


JWT_INSTANCE = INSTANCE.model_copy(
    update={
        "id": "44444444-4444-4444-8444-444444444444",
        "hmac_key": SecretStr(HMAC_KEY),
        "signature_scheme": "evolution-jwt",
    }
)


def evolution_token(key: str = HMAC_KEY, *, iat: float | None = None, **claims: object) -> str:
    # Evolution 2.3+: {iat, exp = iat + 600, app: "evolution", action: "webhook"}, HS256 with jwt_key
    issued = int(iat if iat is not None else FakeClock().now().timestamp())
    payload = {"iat": issued, "exp": issued + 600, "app": "evolution", "action": "webhook", **claims}
    return "Bearer " + jwt.encode(payload, key, algorithm="HS256")


def test_evolution_jwt_key_bearer_token_is_accepted() -> None:
    h = Harness()
    h.instances.records[JWT_INSTANCE.id] = JWT_INSTANCE
    response = h.post(TEXT, JWT_INSTANCE, authorization=evolution_token())
    assert response.status_code == 200, response.body


@pytest.mark.parametrize(
    "authorization",
    [
        None,
        "Bearer",
        "Basic abc",
        "Bearer not-a-jwt",
        evolution_token(key="another-key-of-32-characters-xyz"),
        evolution_token(iat=FakeClock().now().timestamp() - 3600),  # expired an hour ago
        evolution_token(iat=FakeClock().now().timestamp() + 3600),  # issued in the future
        evolution_token(action="other"),
        evolution_token(app="someone-else"),
    ],
)
def test_evolution_jwt_must_be_valid_current_and_for_webhooks(authorization: str | None) -> None:
    h = Harness()
    h.instances.records[JWT_INSTANCE.id] = JWT_INSTANCE
    headers = {"authorization": authorization} if authorization is not None else {}
    response = h.post(TEXT, JWT_INSTANCE, **headers)
    assert response.status_code == 401
    assert h.queue.published == []
