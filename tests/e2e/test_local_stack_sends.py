"""The local stack sends from its first start: the fake gateway is wired to the demo instance (and
to instances created while it runs), posts the echo and acks back, and the outbound message moves
pending -> sent -> delivered -> read with one realtime broadcast per step."""

from __future__ import annotations

import time
import uuid
from typing import Any

import httpx
import psycopg
import pytest

from ponte.domain.identity import canonical_phone
from ponte.localstack.seed import DEMO_AGENT_ID, seed_tenant
from ponte.localstack.stack import LocalStack
from ponte.services.intake import SECRET_HEADER
from tests.e2e.stack_calls import call, sql, wait

pytestmark = pytest.mark.e2e

PHONE = "5511987650042"  # a fake number


def inbound(stack: LocalStack, phone: str, text: str = "Oi, vocês entregam hoje?") -> str:
    payload = {
        "event": "messages.upsert",
        "instance": "demo",
        "data": {
            "key": {"remoteJid": f"{phone}@s.whatsapp.net", "fromMe": False, "id": uuid.uuid4().hex[:20].upper()},
            "pushName": "Cliente Teste",
            "message": {"conversation": text},
            "messageType": "conversation",
            "messageTimestamp": int(time.time()),
        },
    }
    headers = {SECRET_HEADER: stack.secrets.demo_webhook_secret}
    assert httpx.post(stack.webhook_url(), json=payload, headers=headers, timeout=10).status_code == 200
    rows = wait(
        lambda: sql(
            stack,
            "select c.id::text as id from public.conversations c join public.contacts ct on ct.id = c.contact_id"
            " where ct.phone_e164 = %s",
            canonical_phone(f"{phone}@s.whatsapp.net"),
        )
    )
    assert rows, "the inbound message was not ingested"
    return str(rows[0]["id"])


def broadcast_statuses(stack: LocalStack, message_id: str) -> list[str]:
    """The statuses of the message as the tenant topic broadcast them, in order."""
    assert stack.demo is not None
    rows = sql(
        stack,
        "select payload->>'status' as status from realtime.messages where topic = %s"
        " and event in ('message_created', 'message_updated') and payload->>'id' = %s order by inserted_at",
        f"tenant:{stack.demo.tenant_id}",
        message_id,
    )
    return [r["status"] for r in rows]


def test_a_send_from_the_demo_reaches_read_with_a_broadcast_per_step(stack: LocalStack) -> None:
    # GIVEN the stack as `ponte up` starts it, and a customer who wrote to the demo instance
    conversation = inbound(stack, PHONE)
    # WHEN the demo's agent answers
    body = {"text": "Entregamos sim, até as 18h!", "idempotency_key": "demo-send-0001"}
    response = call(stack, "POST", f"/conversations/{conversation}/messages", user=DEMO_AGENT_ID, json=body)
    # THEN the fake gateway accepted it
    assert response.status_code == 201, response.text
    sent = response.json()
    assert sent["status"] == "sent"
    message_id = sent["message_id"]
    # AND its echo and acks move the message to read, each step broadcast on the tenant topic
    assert wait(lambda: broadcast_statuses(stack, message_id)[-1:] == ["read"], timeout=20), broadcast_statuses(
        stack, message_id
    )
    assert broadcast_statuses(stack, message_id) == ["pending", "sent", "delivered", "read"]
    rows = sql(stack, "select status from public.messages where conversation_id = %s and direction = 'out'",
               conversation)  # fmt: skip
    assert rows == [{"status": "read"}], "one outbound message, the echo stored nothing more"


def test_an_instance_created_while_the_stack_runs_is_wired_and_sends(stack: LocalStack) -> None:
    # GIVEN a WPPConnect instance created after start, with no gateway
    assert stack.demo is not None
    instance = str(uuid.uuid4())
    with psycopg.connect(stack.dsn) as conn:
        seed_tenant(
            conn,
            tenant_id=stack.demo.tenant_id,
            name="Loja Demo",
            user_id=stack.demo.user_id,
            email=stack.demo.user_email,
            instance_id=instance,
            provider="wppconnect",
            gateway_instance="loja-nova",
            webhook_secret="secret-nobody-will-use",
        )
    # THEN within seconds it has the fake gateway and credentials
    assert wait(
        lambda: sql(
            stack, "select 1 from public.whatsapp_instances where id = %s and gateway_base_url is not null", instance
        )
    )
    status = call(stack, "GET", f"/instances/{instance}/status")
    assert status.status_code == 200, status.text
    assert status.json()["status"] == "connected"
    # AND a first message to a number (a deep link's virtual conversation) is sent and acked to read
    first = {"phone": "+55 11 98765-0043", "instance_id": instance, "text": "Olá!", "idempotency_key": "wpp-first-01"}
    response = call(stack, "POST", "/conversations", json=first)
    assert response.status_code == 201, response.text
    message_id = response.json()["message_id"]
    assert wait(lambda: broadcast_statuses(stack, message_id)[-1:] == ["read"], timeout=20), broadcast_statuses(
        stack, message_id
    )
    assert broadcast_statuses(stack, message_id) == ["pending", "sent", "delivered", "read"]


def test_a_deep_link_is_created_resolved_sent_and_lands_in_the_inbox(stack: LocalStack) -> None:
    assert stack.demo is not None
    # GIVEN a marketing page's link, signed with the demo tenant's local key
    link = {"tenant_id": stack.demo.tenant_id, "phone": "(11) 98765-0044", "text": "Quero saber do meu pedido"}
    created = call(stack, "POST", "/deeplinks", json=link)
    assert created.status_code == 201, created.text
    # WHEN the agent opens it: a signed, virtual conversation; the demo has two numbers (Evolution and
    # the Cloud API), so the agent picks one
    resolved = call(stack, "GET", f"/deeplinks/resolve?{created.json()['query']}", user=DEMO_AGENT_ID)
    assert resolved.status_code == 200, resolved.text
    body = resolved.json()
    assert body["signed"] is True and body["conversation"]["virtual"] is True
    assert body["conversation"]["instance_id"] is None
    assert sorted(body["conversation"]["instance_ids"]) == sorted(
        [stack.demo.instance_id, stack.demo.cloud_instance_id]
    )
    # AND sends the first message where the link says, from the Evolution number
    send = {**body["send"]["body"], "instance_id": stack.demo.instance_id}
    send |= {"text": body["prefilled_text"], "idempotency_key": "deeplink-local-01"}
    response = call(stack, body["send"]["method"], body["send"]["path"], user=DEMO_AGENT_ID, json=send)
    assert response.status_code == 201, response.text
    conversation = response.json()["conversation_id"]
    # THEN the conversation is in the agent's inbox with the message sent, and the link now opens it
    items = call(stack, "GET", "/conversations", user=DEMO_AGENT_ID).json()["items"]
    [item] = [i for i in items if i["id"] == conversation]
    assert item["contact"]["phone"] == "+5511987650044"
    assert item["last_message"]["direction"] == "out" and item["last_message"]["preview"] == link["text"]
    again = call(stack, "GET", f"/deeplinks/resolve?{created.json()['query']}", user=DEMO_AGENT_ID).json()
    assert again["conversation"]["id"] == conversation and again["conversation"]["virtual"] is False


def test_a_send_refused_before_the_gateway_accepted_it_is_failed_with_its_code(stack: LocalStack) -> None:
    # GIVEN the demo session logged out on the fake gateway
    assert stack.gateway is not None and stack.demo is not None
    conversation = inbound(stack, PHONE)
    stack.gateway.fake.evolution("demo").status = "not_logged"
    # WHEN the agent sends
    body = {"text": "Vou verificar", "idempotency_key": "demo-send-fail-01"}
    response = call(stack, "POST", f"/conversations/{conversation}/messages", json=body)
    # THEN the answer says why, no message row exists, and the outbox row is failed with the code
    assert response.status_code == 503 and response.json()["code"] == "session_not_logged"
    assert sql(stack, "select 1 from public.messages where conversation_id = %s and direction = 'out'",
               conversation) == []  # fmt: skip
    assert sql(
        stack,
        "select status, error_code, message_id from public.outbound_messages where idempotency_key = %s",
        "demo-send-fail-01",
    ) == [{"status": "failed", "error_code": "session_not_logged", "message_id": None}]


def _evolution_echo(message_id: str, status: str, event: str) -> dict[str, Any]:
    return {
        "event": event,
        "instance": "demo",
        "data": {
            "key": {"remoteJid": f"{PHONE}@s.whatsapp.net", "fromMe": True, "id": message_id},
            "pushName": "",
            "status": status,
            "message": {"conversation": "Seu pedido foi confirmado."},
            "messageType": "conversation",
            "messageTimestamp": int(time.time()),
        },
    }


def _wpp_self(message_id: str, ack: int) -> dict[str, Any]:
    return {
        "event": "onselfmessage",
        "session": "loja-eco",
        "id": f"true_{PHONE}@c.us_{message_id}",
        "body": "Seu pedido foi confirmado.",
        "type": "chat",
        "t": int(time.time()),
        "from": "5511940000002@c.us",
        "to": f"{PHONE}@c.us",
        "self": "out",
        "ack": ack,
        "fromMe": True,
        "isGroupMsg": False,
    }


@pytest.mark.parametrize("provider", ["evolution", "wppconnect"])
def test_an_echo_at_a_later_ack_moves_a_stored_outbound_message_forward(stack: LocalStack, provider: str) -> None:
    """The bug this fixes: a pending outbound message stayed pending after the SERVER_ACK echo."""
    assert stack.demo is not None
    message_id = "3EB0" + uuid.uuid4().hex[:16].upper()
    if provider == "evolution":
        url, headers = stack.webhook_url(), {SECRET_HEADER: stack.secrets.demo_webhook_secret}
        first, echo = (
            _evolution_echo(message_id, "PENDING", "send.message"),
            _evolution_echo(message_id, "SERVER_ACK", "messages.upsert"),
        )
    else:
        instance = str(uuid.uuid4())
        with psycopg.connect(stack.dsn) as conn:
            seed_tenant(conn, tenant_id=stack.demo.tenant_id, name="Loja Demo", user_id=stack.demo.user_id,
                        email=stack.demo.user_email, instance_id=instance, provider="wppconnect",
                        gateway_instance="loja-eco", webhook_secret="wpp-echo-secret")  # fmt: skip
            conn.execute("update public.whatsapp_instances set gateway_base_url = 'http://127.0.0.1:9' where id = %s",
                         (instance,))  # fmt: skip
        url, headers = f"{stack.proxy_url}/webhooks/wppconnect/{instance}/wpp-echo-secret", {}
        first, echo = _wpp_self(message_id, 0), _wpp_self(message_id, 1)

    def status() -> list[dict[str, Any]]:
        return sql(stack, "select status from public.messages where provider_message_id = %s", message_id)

    # GIVEN the echo of a send stored at its first ack (pending)
    assert httpx.post(url, json=first, headers=headers, timeout=10).status_code == 200
    assert wait(lambda: status() == [{"status": "pending"}]), status()
    # WHEN the same message comes again at SERVER_ACK
    assert httpx.post(url, json=echo, headers=headers, timeout=10).status_code == 200
    # THEN it is sent, still one row
    assert wait(lambda: status() == [{"status": "sent"}]), status()
    # AND an older ack arriving late never moves it back
    assert httpx.post(url, json=first, headers=headers, timeout=10).status_code == 200
    time.sleep(0.5)
    assert status() == [{"status": "sent"}]
