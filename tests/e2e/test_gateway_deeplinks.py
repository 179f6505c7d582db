"""Marketing deep links through the proxy: canonical identity, virtual conversations, signatures."""

from __future__ import annotations

import time
from urllib.parse import parse_qs, urlencode

import pytest
from psycopg.types.json import Jsonb

from ponte.domain.deeplinks import DeepLink, sign
from tests.e2e.conftest import OTHER_USER
from tests.e2e.gateway_support import AGENT, DEEPLINK_TEST_KEY, GatewayEnv

pytestmark = pytest.mark.e2e


def resolve(env: GatewayEnv, query: str, user: str | None = AGENT) -> tuple[int, dict[str, object]]:
    response = env.call("GET", f"/deeplinks/resolve?{query}", user=user)
    return response.status_code, response.json()


def signed_query(env: GatewayEnv, phone: str, text: str) -> str:
    response = env.call("POST", "/deeplinks", json={"tenant_id": env.tenant_id, "phone": phone, "text": text})
    assert response.status_code == 201, response.text
    return str(response.json()["query"])


def test_a_link_to_a_legacy_number_opens_the_existing_conversation(gateway: GatewayEnv) -> None:
    env = gateway
    # GIVEN a customer who writes from a pre-2016 JID without the 9th digit
    conversation = env.conversation_with("551187650003")
    # WHEN marketing's signed link carries the number typed without the 9th digit either
    query = signed_query(env, "(11) 8765-0003", "Olá! Seu pedido está pronto para retirada.")
    status, body = resolve(env, query)
    # THEN it opens that conversation, with the prefilled reminder
    assert status == 200, body
    assert body["conversation"]["id"] == conversation and body["conversation"]["virtual"] is False  # type: ignore[index]
    assert body["phone_e164"] == "+5511987650003" and body["signed"] is True
    assert body["prefilled_text"] == "Olá! Seu pedido está pronto para retirada."
    assert body["send"] == {"method": "POST", "path": f"/conversations/{conversation}/messages", "body": None}


def test_an_unknown_number_gives_a_virtual_conversation_with_the_customer_card(gateway: GatewayEnv) -> None:
    env = gateway
    with env.stack.db.as_service() as conn:  # type: ignore[union-attr]
        conn.execute(
            "insert into public.customers"
            " (tenant_id, external_id, name, phone_raw, phone_e164, photo_url, sales_summary) values"
            " (%s, 'ERP-42', 'Maria Teste', '21 98765-0004', '+5521987650004', 'https://erp.example/42.jpg', %s)",
            (env.tenant_id, Jsonb({"orders": 3, "total_brl": "1290.50", "last_order": "2026-10-30"})),
        )
    query = urlencode(
        {"v": "1", "t": env.tenant_id, "p": "+55 21 98765-0004", "m": "Lembrete: sua fatura vence amanhã"}
    )
    # WHEN an agent opens an (unsigned) link to a number never talked to
    status, body = resolve(env, query)
    # THEN a virtual conversation comes back with the ERP card; nothing is stored yet
    assert status == 200, body
    conversation = body["conversation"]
    assert conversation["virtual"] is True and conversation["id"] is None  # type: ignore[index]
    # the demo's Evolution and Cloud API numbers, and the test's WPPConnect one: the agent picks
    assert conversation["instance_id"] is None and len(conversation["instance_ids"]) == 3  # type: ignore[index]
    assert body["customer"]["name"] == "Maria Teste" and body["customer"]["sales_summary"]["orders"] == 3  # type: ignore[index]
    assert body["signed"] is False
    assert env.sql("select 1 from public.contacts where phone_e164 = '+5521987650004'") == []
    # WHEN the agent sends the first message
    send = {"phone": body["phone_e164"], "instance_id": env.evo_instance, "text": body["prefilled_text"],
            "idempotency_key": "deeplink-first-0001"}  # fmt: skip
    response = env.call("POST", "/conversations", user=AGENT, json=send)
    assert response.status_code == 201, response.text
    # THEN the conversation exists, and the link now opens it
    status, again = resolve(env, query)
    assert again["conversation"]["virtual"] is False  # type: ignore[index]
    assert again["conversation"]["id"] == response.json()["conversation_id"]  # type: ignore[index]


def test_signatures_are_checked(gateway: GatewayEnv) -> None:
    env = gateway
    query = signed_query(env, "21 98765-0005", "Oferta para você")
    params = {k: v[0] for k, v in parse_qs(query).items()}
    tampered = urlencode({**params, "m": "Pague via pix para 000"})
    assert resolve(env, tampered) == (403, {"code": "bad_signature", "message": "the link's signature is not valid"})
    expired = sign(
        DeepLink(tenant_id=env.tenant_id, phone="21 98765-0005", expires_at=int(time.time()) - 5),
        DEEPLINK_TEST_KEY.encode(),
    )
    status, body = resolve(env, expired.query())
    assert (status, body["code"]) == (403, "expired")
    # a member of another tenant cannot use this tenant's link
    status, body = resolve(env, query, user=OTHER_USER)
    assert (status, body["code"]) == (403, "forbidden")
    # agents cannot sign links
    response = env.call("POST", "/deeplinks", user=AGENT, json={"tenant_id": env.tenant_id, "phone": "21987650005"})
    assert response.status_code == 403


@pytest.mark.parametrize(
    ("query", "code"),
    [
        ("v=1&p=not-a-phone&m=oi", "invalid_phone"),
        ("v=2&p=21987650005", "unsupported_version"),
        ("v=1&t=x&p=2198", "invalid_deeplink"),
    ],
)
def test_bad_links_get_a_machine_code(gateway: GatewayEnv, query: str, code: str) -> None:
    status, body = resolve(gateway, query)
    assert (status, body["code"]) == (400, code)
