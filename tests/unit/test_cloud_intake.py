"""The Cloud API's webhook intake over fakes: the GET handshake, X-Hub-Signature-256 before any
parsing, and each change routed to the instance of its phone_number_id (or refused)."""

from __future__ import annotations

import hashlib
import hmac
import json
from pathlib import Path
from typing import Any

import pytest

from ponte.adapters.cloud_credentials import SecretCloudCredentials
from ponte.domain.events import MessageEvent, Provider
from ponte.domain.instances import InstanceRecord
from ponte.domain.quarantine import QuarantineEntry
from ponte.services.cloud_webhooks import CloudWebhooks
from ponte.services.gate import EventGate
from ponte.services.intake import IntakeService, WebhookRequest, hash_secret
from ponte.services.quarantine_replay import QuarantineReplayService
from proxy import providers
from tests.fakes.ports import (
    FakeClock,
    FakeDiagnostics,
    FakeInstances,
    FakePrivacy,
    FakeQuarantine,
    FakeQueue,
    FakeSecrets,
)

pytestmark = pytest.mark.unit

FIXTURES = Path(__file__).resolve().parents[2] / "proxy" / "providers" / "cloud" / "fixtures"
TEXT = (FIXTURES / "messages__text-br-no9th-digit__01.json").read_bytes()
TWO_NUMBERS = (FIXTURES / "messages__two-entries-two-numbers-constructed__01.json").read_bytes()
TENANT, OTHER_TENANT = "22222222-2222-4222-8222-222222222222", "44444444-4444-4444-8444-444444444444"
APP_SECRET = "app-secret-of-loja"


def instance(id_: str, number: str, secret_name: str, tenant: str = TENANT) -> InstanceRecord:
    return InstanceRecord(
        id=id_,
        tenant_id=tenant,
        provider=Provider.CLOUD,
        gateway_instance=number,
        webhook_secret_hash=hash_secret("unused"),
        credentials_secret_name=secret_name,
    )


MAIN = instance("11111111-1111-4111-8111-111111111111", "1122334455667", "cloud/main")
SIBLING = instance("55555555-5555-4555-8555-555555555555", "2233445566778", "cloud/sibling")


def secrets(sibling_app_secret: str = APP_SECRET) -> FakeSecrets:
    return FakeSecrets(
        {
            "cloud/main": {"app_secret": APP_SECRET, "verify_token": "verify-me", "access_token": "EAAG"},
            "cloud/sibling": {"app_secret": sibling_app_secret, "verify_token": "other", "access_token": "EAAH"},
        }
    )


def make(
    *records: InstanceRecord, store: FakeSecrets | None = None
) -> tuple[IntakeService, FakeQueue, FakeDiagnostics]:
    queue, diagnostics = FakeQueue(), FakeDiagnostics()
    directory = FakeInstances(*(records or (MAIN,)))
    service = IntakeService(
        instances=directory,
        normalize=lambda p, payload, inst: providers.normalize(p, payload, instance=inst),
        queue=queue,
        diagnostics=diagnostics,
        privacy=FakePrivacy(),
        clock=FakeClock(),
        cloud=CloudWebhooks(instances=directory, credentials=SecretCloudCredentials(store or secrets())),
    )
    return service, queue, diagnostics


def signed(body: bytes, key: str = APP_SECRET) -> dict[str, str]:
    return {"x-hub-signature-256": "sha256=" + hmac.new(key.encode(), body, hashlib.sha256).hexdigest()}


def post(service: IntakeService, body: bytes, headers: dict[str, str], **kw: Any) -> Any:
    return service.handle(
        WebhookRequest(provider=kw.pop("provider", "cloud"), instance_id=kw.pop("id", MAIN.id), body=body,
                       headers=headers, **kw)
    )  # fmt: skip


# -- the GET handshake --------------------------------------------------------------------------


def test_handshake_echoes_the_challenge_when_mode_and_token_match() -> None:
    service, _, diagnostics = make()
    params = {"hub.mode": "subscribe", "hub.verify_token": "verify-me", "hub.challenge": "1158201444"}
    result = service.handshake("cloud", MAIN.id, params)
    assert (result.status_code, result.text) == (200, "1158201444")
    assert diagnostics.entries[-1].outcome == "accepted" and diagnostics.entries[-1].instance_id == MAIN.id


@pytest.mark.parametrize(
    ("provider", "instance_id", "params"),
    [
        ("cloud", MAIN.id, {"hub.mode": "subscribe", "hub.verify_token": "verify-mf", "hub.challenge": "1"}),
        ("cloud", MAIN.id, {"hub.mode": "unsubscribe", "hub.verify_token": "verify-me", "hub.challenge": "1"}),
        ("cloud", MAIN.id, {"hub.challenge": "1"}),
        ("cloud", "not-a-uuid", {"hub.mode": "subscribe", "hub.verify_token": "verify-me", "hub.challenge": "1"}),
        ("evolution", MAIN.id, {"hub.mode": "subscribe", "hub.verify_token": "verify-me", "hub.challenge": "1"}),
        # the sibling's own token does not open the main instance
        ("cloud", MAIN.id, {"hub.mode": "subscribe", "hub.verify_token": "other", "hub.challenge": "1"}),
    ],
)
def test_handshake_is_403_for_anything_else(provider: str, instance_id: str, params: dict[str, str]) -> None:
    service, _, diagnostics = make(MAIN, SIBLING)
    result = service.handshake(provider, instance_id, params)
    assert (result.status_code, result.text) == (403, "forbidden")
    assert diagnostics.entries[-1].error_code == "verification_failed"


@pytest.mark.parametrize("challenge", ["", "x" * 257, "a\nb", "\x00", "çhallenge"])
def test_an_unusable_challenge_is_400_never_echoed(challenge: str) -> None:
    service, _, _ = make()
    result = service.handshake(
        "cloud", MAIN.id, {"hub.mode": "subscribe", "hub.verify_token": "verify-me", "hub.challenge": challenge}
    )
    assert (result.status_code, result.text) == (400, "invalid challenge")


def test_an_instance_without_credentials_is_403() -> None:
    service, _, _ = make(store=FakeSecrets({}))
    result = service.handshake(
        "cloud", MAIN.id, {"hub.mode": "subscribe", "hub.verify_token": "", "hub.challenge": "1"}
    )
    assert result.status_code == 403


# -- authenticity -------------------------------------------------------------------------------


def test_a_signed_body_is_accepted_and_enqueued_for_the_instance() -> None:
    service, queue, diagnostics = make()
    response = post(service, TEXT, signed(TEXT))
    assert response.status_code == 200, response.body
    assert response.body == {"outcome": "accepted", "events": 1, "dropped": 0, "refused": 0}
    (envelope,) = queue.published
    assert (envelope.tenant_id, envelope.instance_id) == (TENANT, MAIN.id)
    assert isinstance(envelope.event, MessageEvent)
    assert envelope.event.chat.key == "+5531988880001"  # the 12-digit wa_id, with its 9th digit
    assert diagnostics.entries[-1].event == "messages"


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"x-hub-signature-256": ""},
        {"x-hub-signature-256": "sha256="},
        signed(TEXT, key="another app's secret"),
        signed(TEXT + b" "),  # the signature of other bytes
        {"x-hub-signature-256": "sha1=" + hmac.new(APP_SECRET.encode(), TEXT, hashlib.sha1).hexdigest()},
        {"x-ponte-webhook-secret": "unused"},
    ],
)
def test_a_missing_or_wrong_signature_is_401_and_nothing_is_parsed(headers: dict[str, str]) -> None:
    service, queue, diagnostics = make()
    response = post(service, TEXT, headers)
    assert response.status_code == 401 and response.body["code"] == "unauthorized"
    assert queue.published == []
    assert diagnostics.entries[-1].event is None  # rejected before the body was read


def test_an_unsigned_garbage_body_is_401_not_400() -> None:
    service, _, _ = make()
    assert post(service, b"{not json", {}).status_code == 401


def test_a_cloud_instance_takes_no_path_secret_nor_another_providers_route() -> None:
    service, _, _ = make()
    assert post(service, TEXT, signed(TEXT), path_secret="unused").status_code == 401
    assert post(service, TEXT, signed(TEXT), provider="evolution").status_code == 401
    assert post(service, TEXT, signed(TEXT), id="33333333-3333-4333-8333-333333333333").status_code == 401


def test_a_signed_but_malformed_body_is_a_4xx_with_a_machine_code() -> None:
    service, _, _ = make()
    body = json.dumps({"object": "whatsapp_business_account", "entry": "x"}).encode()
    response = post(service, body, signed(body))
    assert response.status_code == 422 and response.body["code"] == "missing_entry"


# -- routing by phone_number_id ------------------------------------------------------------------


def test_a_body_with_two_numbers_of_the_same_app_goes_to_both_instances() -> None:
    service, queue, _ = make(MAIN, SIBLING)
    response = post(service, TWO_NUMBERS, signed(TWO_NUMBERS))
    assert response.body == {"outcome": "accepted", "events": 3, "dropped": 0, "refused": 0}
    routed = sorted((e.instance_id, e.event.type) for e in queue.published)
    assert routed == [(MAIN.id, "message"), (SIBLING.id, "message"), (SIBLING.id, "status")]


def test_a_number_of_another_meta_app_is_refused() -> None:
    service, queue, _ = make(MAIN, SIBLING, store=secrets(sibling_app_secret="another app"))
    response = post(service, TWO_NUMBERS, signed(TWO_NUMBERS))
    assert response.body == {"outcome": "accepted", "events": 1, "dropped": 0, "refused": 2}
    assert {e.instance_id for e in queue.published} == {MAIN.id}


def test_another_tenants_number_is_refused_even_with_the_same_app_secret() -> None:
    stranger = instance(SIBLING.id, SIBLING.gateway_instance, "cloud/sibling", tenant=OTHER_TENANT)
    service, queue, _ = make(MAIN, stranger)
    response = post(service, TWO_NUMBERS, signed(TWO_NUMBERS))
    assert response.body["refused"] == 2
    assert {(e.tenant_id, e.instance_id) for e in queue.published} == {(TENANT, MAIN.id)}


def test_a_body_only_for_numbers_not_routed_is_ignored_and_stores_nothing() -> None:
    body = TEXT.replace(b"1122334455667", b"9999999999999")
    service, queue, diagnostics = make()
    response = post(service, body, signed(body))
    assert response.body == {"outcome": "ignored", "reason": "phone_number_not_routed"}
    assert diagnostics.entries[-1].outcome == "ignored"
    assert queue.published == []


# -- a quarantined Cloud API body replayed -------------------------------------------------------


def test_a_replayed_cloud_body_is_routed_by_phone_number_as_a_live_one() -> None:
    # GIVEN a two-number body that was quarantined (under the main instance's URL)
    directory = FakeInstances(MAIN, SIBLING)
    quarantine, queue = FakeQuarantine(), FakeQueue()
    quarantine.put(
        QuarantineEntry(tenant_id=TENANT, instance_id=MAIN.id, provider="cloud", reason_code="x",
                        raw_payload=TWO_NUMBERS.decode(), payload_bytes=len(TWO_NUMBERS))
    )  # fmt: skip
    replay = QuarantineReplayService(
        quarantine=quarantine,
        instances=directory,
        normalize=lambda p, payload, inst: providers.normalize(p, payload, instance=inst),
        gate=EventGate(privacy=FakePrivacy(), queue=queue, clock=FakeClock()),
        cloud=CloudWebhooks(instances=directory, credentials=SecretCloudCredentials(secrets())),
    )
    # WHEN it is replayed THEN each number's events go to its own instance
    (result,) = replay.replay()
    assert result.outcome == "accepted"
    assert sorted((e.instance_id, e.event.type) for e in queue.published) == [
        (MAIN.id, "message"),
        (SIBLING.id, "message"),
        (SIBLING.id, "status"),
    ]
