"""The httpx gateway clients against the fake gateway, a real HTTP server on loopback."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from ponte.adapters.gateways.factory import HttpGatewayFactory
from ponte.domain.events import Provider
from ponte.domain.gateway import SessionStatus
from ponte.domain.retry import RetryPolicy
from ponte.localstack.fake_gateway import FakeGateway
from ponte.ports.gateway import (
    GatewayAmbiguousError,
    GatewayNotConfiguredError,
    GatewayNotLoggedError,
    GatewayTarget,
)
from tests.fakes.ports import FakeDiagnostics, FakeSecrets

pytestmark = pytest.mark.integration

TENANT = "00000000-0000-4000-8000-0000000000a1"
EVO_ID = "00000000-0000-4000-8000-0000000000e1"
WPP_ID = "00000000-0000-4000-8000-0000000000e2"
PHONE = "5511987654321"


@pytest.fixture
def fake() -> Iterator[FakeGateway]:
    with FakeGateway(stall_seconds=0.8) as gw:
        yield gw


def factory(fake: FakeGateway, diagnostics: FakeDiagnostics, sleeps: list[float]) -> HttpGatewayFactory:
    secrets = FakeSecrets(
        {
            "evo": {"api_key": "evo-key", "alternate_api_key": "evo-alt"},
            "wpp": {"api_key": fake.wpp_secret_key},
        }
    )
    return HttpGatewayFactory(
        secrets,
        diagnostics,
        timeout=httpx.Timeout(0.4, connect=0.4),
        retry=RetryPolicy(max_attempts=3, base_seconds=0.01, cap_seconds=0.05),
        sleep=sleeps.append,
    )


def target(provider: Provider, base_url: str, secret: str | None = None) -> GatewayTarget:
    return GatewayTarget(
        instance_id=EVO_ID if provider is Provider.EVOLUTION else WPP_ID,
        tenant_id=TENANT,
        provider=provider,
        gateway_instance="loja",
        base_url=base_url,
        credentials_secret_name=secret or ("evo" if provider is Provider.EVOLUTION else "wpp"),
    )


def test_idempotent_calls_retry_504s_with_backoff(fake: FakeGateway) -> None:
    # GIVEN a gateway that answers 504 twice
    session = fake.evolution("loja", "evo-key")
    session.fail("status", "504", times=2)
    diagnostics, sleeps = FakeDiagnostics(), list[float]()
    gateway = factory(fake, diagnostics, sleeps).for_instance(target(Provider.EVOLUTION, fake.url))
    # WHEN the status is read
    info = gateway.status()
    # THEN the third attempt answers, after two backoff pauses, and every attempt is on record
    assert info.status is SessionStatus.CONNECTED
    assert session.count("status") == 3 and len(sleeps) == 2 and all(0 <= s <= 0.05 for s in sleeps)
    assert [(e.outcome, e.status_code, e.error_code) for e in diagnostics.entries] == [
        ("timeout", 504, "gateway_timeout"),
        ("timeout", 504, "gateway_timeout"),
        ("accepted", 200, None),
    ]
    assert diagnostics.entries[0].route == "gateway GET /instance/connectionState/{instance}"


def test_retries_are_bounded(fake: FakeGateway) -> None:
    session = fake.evolution("loja", "evo-key")
    session.fail("status", "504", times=5)
    gateway = factory(fake, FakeDiagnostics(), []).for_instance(target(Provider.EVOLUTION, fake.url))
    with pytest.raises(GatewayAmbiguousError):
        gateway.status()
    assert session.count("status") == 3


def test_a_send_is_never_retried(fake: FakeGateway) -> None:
    session = fake.evolution("loja", "evo-key")
    session.fail("send", "504")
    gateway = factory(fake, FakeDiagnostics(), []).for_instance(target(Provider.EVOLUTION, fake.url))
    with pytest.raises(GatewayAmbiguousError):
        gateway.send_text(PHONE, "Olá")
    assert session.count("send") == 1 and session.sent == []


def test_a_send_accepted_then_timed_out_is_ambiguous_and_visible_in_recent_messages(fake: FakeGateway) -> None:
    session = fake.evolution("loja", "evo-key")
    session.fail("send", "accept_then_timeout")
    diagnostics = FakeDiagnostics()
    gateway = factory(fake, diagnostics, []).for_instance(target(Provider.EVOLUTION, fake.url))
    with pytest.raises(GatewayAmbiguousError):
        gateway.send_text(PHONE, "Seu pedido saiu para entrega")
    recent = gateway.recent_messages(PHONE)
    assert [(m.from_me, m.text) for m in recent] == [(True, "Seu pedido saiu para entrega")]
    assert recent[0].provider_message_id == session.sent[0]["key"]["id"]
    # no diagnostics row carries the phone
    assert all(PHONE not in e.model_dump_json() for e in diagnostics.entries)


def test_evolution_not_logged(fake: FakeGateway) -> None:
    session = fake.evolution("loja", "evo-key")
    session.status = "not_logged"
    gateway = factory(fake, FakeDiagnostics(), []).for_instance(target(Provider.EVOLUTION, fake.url))
    with pytest.raises(GatewayNotLoggedError):
        gateway.send_text(PHONE, "Olá")
    assert gateway.status().status is SessionStatus.DISCONNECTED
    started = gateway.start()
    assert started.status is SessionStatus.QR_PENDING and started.qr_code and started.pairing_code


def test_alternate_credentials_are_used_when_asked(fake: FakeGateway) -> None:
    session = fake.evolution("loja", "evo-key", "evo-alt")
    f = factory(fake, FakeDiagnostics(), [])
    f.for_instance(target(Provider.EVOLUTION, fake.url), alternate=True).restart()
    assert session.calls == [("restart", "evo-alt")]
    assert f.has_alternate(target(Provider.EVOLUTION, fake.url))


def test_wppconnect_token_is_generated_once_and_again_after_a_401(fake: FakeGateway) -> None:
    session = fake.wppconnect("loja")
    diagnostics = FakeDiagnostics()
    f = factory(fake, diagnostics, [])
    gateway = f.for_instance(target(Provider.WPPCONNECT, fake.url))
    first = gateway.send_text(PHONE, "Olá")
    second = gateway.send_text(PHONE, "Tudo bem?")
    assert first.provider_message_id != second.provider_message_id
    assert session.sent[0]["id"].endswith("_" + first.provider_message_id)  # the WhatsApp id webhooks carry
    assert session.count("token") == 1
    # WHEN the server revokes the issued tokens (the cached one now gets 401)
    fake.token_epoch += 1
    assert gateway.status().status is SessionStatus.CONNECTED
    # THEN one new token was generated and the call went through
    assert session.count("token") == 2
    # the secret key never reaches the diagnostics (the route is a template)
    assert all(fake.wpp_secret_key not in e.model_dump_json() for e in diagnostics.entries)
    assert "gateway POST /api/{session}/{secretkey}/generate-token" in {e.route for e in diagnostics.entries}


def test_wppconnect_not_logged_and_reset(fake: FakeGateway) -> None:
    session = fake.wppconnect("loja")
    session.status, session.stay_down = "not_logged", True
    gateway = factory(fake, FakeDiagnostics(), []).for_instance(target(Provider.WPPCONNECT, fake.url))
    with pytest.raises(GatewayNotLoggedError):
        gateway.send_text(PHONE, "Olá")
    assert gateway.restart().status is SessionStatus.NOT_LOGGED  # stays down
    gateway.logout()
    fresh = gateway.start()
    assert fresh.status is SessionStatus.QR_PENDING and fresh.qr_code and fresh.qr_image


def test_missing_credentials_are_a_configuration_error(fake: FakeGateway) -> None:
    with pytest.raises(GatewayNotConfiguredError):
        factory(fake, FakeDiagnostics(), []).for_instance(target(Provider.EVOLUTION, fake.url, secret="nope"))
