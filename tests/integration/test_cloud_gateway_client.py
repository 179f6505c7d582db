"""The Graph API client against the fake gateway's Cloud API mode (a real HTTP server on loopback):
requests in Meta's shapes, Meta's error codes mapped to machine codes, templates listed, media
uploaded and resolved; every call leaves a diagnostics row without the token."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from ponte.adapters.gateways.cloud import CloudGateway
from ponte.adapters.gateways.factory import HttpGatewayFactory
from ponte.domain.events import Provider
from ponte.domain.gateway import MediaUpload, SessionStatus
from ponte.domain.outbound import MediaSpec, OutboundContent, OutboundKind, TemplateSpec
from ponte.domain.retry import RetryPolicy
from ponte.localstack.fake_gateway import FakeGateway
from ponte.ports.gateway import GatewayAuthError, GatewayRejectedError, GatewayTarget, GatewayUnsupportedError
from tests.fakes.ports import FakeDiagnostics, FakeSecrets

pytestmark = pytest.mark.integration

NUMBER, WABA, TOKEN = "100000000000077", "100000000000099", "EAAG-test-token"


@pytest.fixture
def fake() -> Iterator[FakeGateway]:
    with FakeGateway() as gw:
        gw.cloud(NUMBER, access_token=TOKEN, app_secret="app-secret", waba_id=WABA)
        yield gw


def client(fake: FakeGateway, diagnostics: FakeDiagnostics, token: str = TOKEN) -> CloudGateway:
    secrets = FakeSecrets({"cloud": {"app_secret": "app-secret", "verify_token": "v", "access_token": token,
                                     "waba_id": WABA}})  # fmt: skip
    factory = HttpGatewayFactory(secrets, diagnostics, timeout=httpx.Timeout(2.0), retry=RetryPolicy(max_attempts=1))
    target = GatewayTarget(
        instance_id="00000000-0000-4000-8000-0000000000c7",
        tenant_id="00000000-0000-4000-8000-0000000000a1",
        provider=Provider.CLOUD,
        gateway_instance=NUMBER,
        base_url=fake.graph_url,
        credentials_secret_name="cloud",
    )
    gateway = factory.for_instance(target)
    assert isinstance(gateway, CloudGateway)
    return gateway


def test_a_text_goes_to_the_13_digit_number_and_comes_back_pending(fake: FakeGateway) -> None:
    diagnostics = FakeDiagnostics()
    sent = client(fake, diagnostics).send_text("5531988887777", "Olá!")
    assert sent.provider_message_id.startswith("wamid.") and sent.status is not None and sent.status.value == "pending"
    assert sent.chat_jid == "5531988887777@s.whatsapp.net"
    (request,) = fake.cloud_numbers[NUMBER].sent
    assert request["messaging_product"] == "whatsapp" and request["text"] == {"body": "Olá!", "preview_url": False}
    entry = diagnostics.entries[-1]
    assert entry.route == "gateway POST /{number}/messages" and entry.outcome == "accepted"
    assert TOKEN not in repr(diagnostics.entries)


def test_meta_error_codes_become_machine_codes(fake: FakeGateway) -> None:
    gateway = client(fake, FakeDiagnostics())
    for code, machine in ((131047, "outside_service_window"), (131026, "undeliverable"), (131056, "pair_rate_limited")):
        fake.cloud_numbers[NUMBER].fail_next.append(code)
        with pytest.raises(GatewayRejectedError) as refused:
            gateway.send_text("5531988887777", "x")
        assert refused.value.code == machine
    with pytest.raises(GatewayAuthError) as auth:
        client(fake, FakeDiagnostics(), token="expired").send_text("5531988887777", "x")
    assert auth.value.code == "gateway_auth_failed"
    template = OutboundContent(kind=OutboundKind.TEMPLATE, template=TemplateSpec(name="nao_existe"))
    with pytest.raises(GatewayRejectedError) as missing:
        gateway.send_content("5531988887777", template)
    assert missing.value.code == "template_not_found"


def test_templates_media_and_status(fake: FakeGateway) -> None:
    gateway = client(fake, FakeDiagnostics())
    templates = gateway.templates()
    assert [(t.name, t.status) for t in templates][:2] == [
        ("pedido_enviado", "APPROVED"),
        ("retomar_atendimento", "APPROVED"),
    ]
    assert gateway.status().status is SessionStatus.CONNECTED
    # a document: uploaded first (multipart), then sent by its media id with the file name
    content = OutboundContent(kind=OutboundKind.DOCUMENT, media=MediaSpec(upload_id="u1", filename="boleto.pdf"))
    pdf = b"%PDF-1.4 fake boleto"
    gateway.send_content("5531988887777", content, MediaUpload(data=pdf, content_type="application/pdf",
                                                               filename="boleto.pdf"))  # fmt: skip
    request = fake.cloud_numbers[NUMBER].sent[-1]
    media_id = request["document"]["id"]
    assert request["document"]["filename"] == "boleto.pdf"
    assert fake.cloud_numbers[NUMBER].media[media_id] == (pdf, "application/pdf")
    # and a media id resolves to a URL whose bytes need the same token, capped
    url, mime, size = gateway.media_url(media_id)
    assert (mime, size) == ("application/pdf", len(pdf))
    assert gateway.download(url, max_bytes=1024) == pdf
    assert gateway.download(url, max_bytes=5) == pdf[:6]  # one byte over says "too large"
    with pytest.raises(GatewayUnsupportedError):
        gateway.send_content("5531988887777", OutboundContent(kind=OutboundKind.IMAGE))
