"""The intake service over fakes: every webhook ends in one explicit outcome and one diagnostics row."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from ponte.domain.events import Provider
from ponte.domain.instances import InstanceRecord
from ponte.services.intake import SECRET_HEADER, IntakeService, WebhookRequest, hash_secret
from proxy import providers
from tests.fakes.ports import FakeClock, FakeDiagnostics, FakeInstances, FakePrivacy, FakeQueue

pytestmark = pytest.mark.unit

DEMO = Path(__file__).resolve().parents[2] / "ponte" / "localstack" / "demo" / "evolution"
TEXT = (DEMO / "messages.upsert__text-inbound-v2__01.json").read_bytes()
INSTANCE = InstanceRecord(
    id="11111111-1111-4111-8111-111111111111",
    tenant_id="22222222-2222-4222-8222-222222222222",
    provider=Provider.EVOLUTION,
    gateway_instance="demo",
    webhook_secret_hash=hash_secret("s3cret"),
)


def make(queue: FakeQueue | None = None, privacy: FakePrivacy | None = None, max_body: int = 1024 * 1024) -> Any:
    diagnostics = FakeDiagnostics()
    queue = queue or FakeQueue()
    service = IntakeService(
        instances=FakeInstances(INSTANCE),
        normalize=lambda p, payload, inst: providers.normalize(p, payload, instance=inst),
        queue=queue,
        diagnostics=diagnostics,
        privacy=privacy or FakePrivacy(),
        clock=FakeClock(),
        max_body_bytes=max_body,
    )
    return service, queue, diagnostics


def request(body: bytes = TEXT, secret: str | None = "s3cret", instance: str = INSTANCE.id) -> WebhookRequest:
    headers = {SECRET_HEADER: secret} if secret else {}
    return WebhookRequest(provider="evolution", instance_id=instance, body=body, headers=headers)


def test_text_message_is_accepted_and_enqueued() -> None:
    # GIVEN a valid instance and secret WHEN a text message arrives
    service, queue, diagnostics = make()
    response = service.handle(request())
    # THEN one canonical event is enqueued for the instance's tenant
    assert response.status_code == 200
    assert response.body["outcome"] == "accepted"
    assert [e.tenant_id for e in queue.published] == [INSTANCE.tenant_id]
    assert queue.published[0].event.type == "message"
    assert diagnostics.entries[0].outcome == "accepted"
    assert diagnostics.entries[0].event == "messages.upsert"


@pytest.mark.parametrize(
    ("secret", "instance"),
    [("wrong", INSTANCE.id), (None, INSTANCE.id), ("s3cret", "33333333-3333-4333-8333-333333333333")],
)
def test_unknown_instance_or_wrong_secret_is_401_without_saying_which(secret: str | None, instance: str) -> None:
    service, queue, diagnostics = make()
    response = service.handle(request(secret=secret, instance=instance))
    assert response.status_code == 401
    assert response.body == {
        "outcome": "rejected",
        "code": "unauthorized",
        "reason": "unknown instance or invalid credentials",
    }
    assert queue.published == []
    assert diagnostics.entries[0].error_code == "unauthorized"


def test_invalid_json_is_400_with_reason() -> None:
    service, _, diagnostics = make()
    response = service.handle(request(body=b"{not json"))
    assert response.status_code == 400
    assert response.body["code"] == "invalid_json"
    assert diagnostics.entries[0].status_code == 400


def test_body_over_limit_is_413() -> None:
    service, _, diagnostics = make(max_body=100)
    response = service.handle(request())
    assert response.status_code == 413
    assert response.body["code"] == "payload_too_large"
    assert diagnostics.entries[0].error_code == "payload_too_large"


def test_known_unhandled_event_is_acknowledged_and_recorded() -> None:
    service, queue, diagnostics = make()
    body = json.dumps({"event": "presence.update", "instance": "demo", "data": {}}).encode()
    response = service.handle(request(body=body))
    assert response.status_code == 200
    assert response.body == {"outcome": "ignored", "reason": "unsupported_event"}
    assert queue.published == []
    assert diagnostics.entries[0].outcome == "ignored"


def test_queue_failure_is_503_so_the_gateway_retries() -> None:
    service, _, diagnostics = make(queue=FakeQueue(fail=True))
    response = service.handle(request())
    assert response.status_code == 503
    assert response.body["code"] == "queue_unavailable"
    assert diagnostics.entries[0].outcome == "rejected"


def test_hidden_contact_is_dropped_before_the_queue() -> None:
    service, queue, _ = make(privacy=FakePrivacy(hidden=["+5511987650001"]))
    response = service.handle(request())
    assert response.body == {"outcome": "ignored", "reason": "hidden_contact"}
    assert queue.published == []
