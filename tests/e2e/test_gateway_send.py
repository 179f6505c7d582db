"""Sending through the proxy: stored once, idempotent, never blindly retried."""

from __future__ import annotations

import time

import pytest

from tests.e2e.gateway_support import AGENT, GatewayEnv

pytestmark = pytest.mark.e2e

PHONE = "5511987650001"  # a fake number


def messages_out(env: GatewayEnv, conversation_id: str) -> list[dict[str, object]]:
    return env.sql(
        "select provider_message_id, body, status from public.messages"
        " where conversation_id = %s and direction = 'out' order by created_at",
        conversation_id,
    )


def test_agent_sends_once_and_the_echo_does_not_duplicate(gateway: GatewayEnv) -> None:
    env = gateway
    conversation = env.conversation_with(PHONE)
    # WHEN an agent sends a text
    body = {"text": "Seu pedido sai hoje!", "idempotency_key": "send-0001-abcdef"}
    response = env.call("POST", f"/conversations/{conversation}/messages", user=AGENT, json=body)
    # THEN it is sent and stored with the gateway's message id
    assert response.status_code == 201, response.text
    sent = response.json()
    assert sent["status"] == "sent" and sent["replayed"] is False
    assert sent["provider_message_id"] == env.evo.sent[0]["key"]["id"]
    assert env.evo.sent[0]["key"]["remoteJid"] == f"{PHONE}@s.whatsapp.net"
    # AND the gateway's send.message echo (a real webhook through the queue) adds nothing
    assert env.wait(
        lambda: env.queue_drained() and env.sql("select 1 from public.proxy_diagnostics where event = 'send.message'")
    )
    time.sleep(0.3)
    assert env.wait(env.queue_drained)
    rows = messages_out(env, conversation)
    assert [(r["provider_message_id"], r["body"]) for r in rows] == [
        (sent["provider_message_id"], "Seu pedido sai hoje!")
    ]
    # AND the same request again is answered from the outbox, without a second send
    again = env.call("POST", f"/conversations/{conversation}/messages", user=AGENT, json=body)
    assert again.status_code == 200 and again.json()["replayed"] is True
    assert again.json()["message_id"] == sent["message_id"]
    assert env.evo.count("send") == 1
    # AND the key cannot be reused for another text
    other = env.call("POST", f"/conversations/{conversation}/messages", user=AGENT, json={**body, "text": "Outro"})
    assert other.status_code == 409 and other.json()["code"] == "idempotency_key_reused"


def test_a_504_on_send_is_not_retried_and_resent_only_after_checking(gateway: GatewayEnv) -> None:
    env = gateway
    conversation = env.conversation_with(PHONE)
    env.evo.fail("send", "504")
    body = {"text": "Podemos confirmar a entrega?", "idempotency_key": "send-0002-abcdef"}
    # WHEN the gateway answers 504 before sending
    first = env.call("POST", f"/conversations/{conversation}/messages", user=AGENT, json=body)
    # THEN the proxy does not retry: one call, answer 202 unconfirmed after looking at the gateway
    assert first.status_code == 202, first.text
    assert first.json()["status"] == "unconfirmed"
    assert env.evo.count("send") == 1 and env.evo.count("recent") == 1
    # AND a retry inside the resend window checks again but does not send
    soon = env.call("POST", f"/conversations/{conversation}/messages", user=AGENT, json=body)
    assert soon.status_code == 202 and env.evo.count("send") == 1
    # AND once the window passed with no such message at the gateway, the retry sends it (once)
    time.sleep(3.1)
    later = env.call("POST", f"/conversations/{conversation}/messages", user=AGENT, json=body)
    assert later.status_code == 201, later.text
    assert later.json()["attempts"] == 2 and env.evo.count("send") == 2 and len(env.evo.sent) == 1
    assert len(messages_out(env, conversation)) == 1


def test_a_send_accepted_before_the_timeout_is_confirmed_not_resent(gateway: GatewayEnv) -> None:
    env = gateway
    conversation = env.conversation_with(PHONE)
    # GIVEN a gateway that sends the message but answers after the proxy gave up
    env.evo.fail("send", "accept_then_timeout")
    body = {"text": "Chegou o boleto, confere?", "idempotency_key": "send-0003-abcdef"}
    response = env.call("POST", f"/conversations/{conversation}/messages", user=AGENT, json=body)
    # THEN the proxy finds it in the gateway's recent messages and records it as sent
    assert response.status_code == 201, response.text
    assert response.json()["provider_message_id"] == env.evo.sent[0]["key"]["id"]
    assert env.evo.count("send") == 1
    # AND the late echo does not duplicate it
    time.sleep(GATEWAY_STALL)
    assert env.wait(env.queue_drained)
    assert len(messages_out(env, conversation)) == 1


def test_unconfirmed_send_is_confirmed_by_its_echo(gateway: GatewayEnv) -> None:
    env = gateway
    conversation = env.conversation_with(PHONE)
    # GIVEN the send times out after acceptance and the gateway cannot list messages either; its echo
    # comes seconds later (not while the proxy still decides: on a loaded machine that race was lost)
    env.fake.stall_seconds = 4.0
    env.evo.fail("send", "accept_then_timeout")
    env.evo.fail("recent", "504", times=3)
    body = {"text": "Posso ajudar em algo mais?", "idempotency_key": "send-0004-abcdef"}
    first = env.call("POST", f"/conversations/{conversation}/messages", user=AGENT, json=body)
    assert first.status_code == 202 and first.json()["status"] == "unconfirmed"
    # WHEN the echo webhook arrives and the agent's UI retries with the same key
    assert env.wait(lambda: len(messages_out(env, conversation)) == 1)
    again = env.call("POST", f"/conversations/{conversation}/messages", user=AGENT, json=body)
    # THEN the outbox links the stored echo: sent, one message, one gateway send
    assert again.status_code == 200, again.text
    assert again.json()["status"] == "sent"
    assert again.json()["provider_message_id"] == env.evo.sent[0]["key"]["id"]
    assert env.evo.count("send") == 1 and len(messages_out(env, conversation)) == 1


def test_not_logged_session_refuses_the_send_clearly(gateway: GatewayEnv) -> None:
    env = gateway
    conversation = env.conversation_with(PHONE)
    env.evo.status = "not_logged"
    body = {"text": "Olá!", "idempotency_key": "send-0005-abcdef"}
    response = env.call("POST", f"/conversations/{conversation}/messages", user=AGENT, json=body)
    assert response.status_code == 503
    assert response.json()["code"] == "session_not_logged"
    assert (
        env.sql("select status from public.whatsapp_instances where id = %s", env.evo_instance)[0]["status"]
        == "not_logged"
    )
    assert messages_out(env, conversation) == []


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ({"text": "  ", "idempotency_key": "k" * 10}, 400, "empty_text"),
        ({"text": "oi", "idempotency_key": "short"}, 400, "invalid_idempotency_key"),
        ({"text": "x" * 5000, "idempotency_key": "k" * 10}, 400, "text_too_long"),
        ({"text": 5, "idempotency_key": "k" * 10}, 400, "invalid_field"),
    ],
)
def test_bad_send_requests_get_a_machine_code(
    gateway: GatewayEnv, body: dict[str, object], status: int, code: str
) -> None:
    conversation = gateway.conversation_with(PHONE)
    response = gateway.call("POST", f"/conversations/{conversation}/messages", user=AGENT, json=body)
    assert (response.status_code, response.json()["code"]) == (status, code)
    assert gateway.evo.count("send") == 0


def test_other_tenants_conversations_are_invisible(gateway: GatewayEnv) -> None:
    from tests.e2e.conftest import OTHER_USER

    conversation = gateway.conversation_with(PHONE)
    body = {"text": "Olá", "idempotency_key": "send-0006-abcdef"}
    response = gateway.call("POST", f"/conversations/{conversation}/messages", user=OTHER_USER, json=body)
    assert response.status_code == 404 and response.json()["code"] == "conversation_not_found"
    assert gateway.evo.count("send") == 0


def test_wppconnect_send_uses_one_cached_token(gateway: GatewayEnv) -> None:
    env = gateway
    # a virtual conversation on the WPPConnect instance: the first message creates it
    body = {"text": "Olá, aqui é da loja", "idempotency_key": "send-0007-abcdef", "phone": "(21) 98765-0002",
            "instance_id": env.wpp_instance}  # fmt: skip
    first = env.call("POST", "/conversations", user=AGENT, json=body)
    assert first.status_code == 201, first.text
    conversation = first.json()["conversation_id"]
    second = env.call(
        "POST",
        f"/conversations/{conversation}/messages",
        user=AGENT,
        json={"text": "Tudo bem?", "idempotency_key": "send-0008-abcdef"},
    )
    assert second.status_code == 201, second.text
    assert env.wpp.count("token") == 1 and env.wpp.count("send") == 2
    assert env.wpp.sent[0]["to"] == "5521987650002@c.us"
    rows = env.sql("select chat_key from public.conversations where id = %s", conversation)
    assert rows == [{"chat_key": "+5521987650002"}]


GATEWAY_STALL = 1.3


def test_sends_from_a_suggestion_record_as_is_or_edited(gateway: GatewayEnv) -> None:
    env = gateway
    conversation = env.conversation_with(PHONE, "Quando chega meu pedido?")
    env.conversation_with(PHONE, "E o código de rastreio?")
    inbound = env.wait(
        lambda: (
            [
                r["id"]
                for r in env.sql(
                    "select id::text from public.messages where conversation_id = %s and direction = 'in'"
                    " order by occurred_at, created_at",
                    conversation,
                )
            ]
            if len(env.sql("select 1 from public.messages where conversation_id = %s", conversation)) == 2
            else None
        )
    )
    assert inbound and len(inbound) == 2
    analyze_queue = env.stack.queue_urls["ponte-analyze"]
    env.wait(lambda: queue_drained(env, analyze_queue))
    # GIVEN a reply suggestion for each inbound message (what the analyze function stores)
    suggested = "Olá! Seu pedido já foi enviado e chega amanhã."
    ids = []
    for message_id in inbound:
        row = env.sql(
            "insert into public.reply_suggestions (tenant_id, message_id, conversation_id, text, source, model)"
            " values (%s, %s, %s, %s, 'template', 'test') on conflict (message_id) do update set text = excluded.text"
            " returning id::text",
            env.tenant_id,
            message_id,
            conversation,
            suggested,
        )
        ids.append(row[0]["id"])
    # WHEN the agent sends one as is and edits the other
    as_is = {"text": suggested + "  ", "idempotency_key": "sugg-0001-abcdef", "suggestion_id": ids[0]}
    edited_text = "Olá! Seu pedido chega amanhã de manhã."
    edited = {"text": edited_text, "idempotency_key": "sugg-0002-abcdef", "suggestion_id": ids[1]}
    r1 = env.call("POST", f"/conversations/{conversation}/messages", user=AGENT, json=as_is)
    r2 = env.call("POST", f"/conversations/{conversation}/messages", user=AGENT, json=edited)
    # THEN each outcome is recorded, on the send and on the suggestion, with the final text and the agent
    assert (r1.status_code, r1.json()["suggestion_outcome"]) == (201, "as_is")
    assert (r2.status_code, r2.json()["suggestion_outcome"]) == (201, "edited")
    rows = env.sql(
        "select id::text, outcome, final_text, decided_by::text from public.reply_suggestions where id = any(%s)"
        " order by outcome",
        ids,
    )
    assert [(r["id"], r["outcome"], r["final_text"], r["decided_by"]) for r in rows] == [
        (ids[0], "as_is", suggested, AGENT),
        (ids[1], "edited", edited_text, AGENT),
    ]
    assert env.evo.count("send") == 2  # only the agent's two actions sent anything
    # AND an unknown suggestion is refused before anything is sent
    bogus = {**edited, "idempotency_key": "sugg-0003-abcdef", "suggestion_id": "00000000-0000-4000-8000-000000000bad"}
    r3 = env.call("POST", f"/conversations/{conversation}/messages", user=AGENT, json=bogus)
    assert (r3.status_code, r3.json()["code"]) == (422, "unknown_suggestion")
    assert env.evo.count("send") == 2


def queue_drained(env: GatewayEnv, url: str) -> bool:
    attrs = env.stack.sqs.get_queue_attributes(
        QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"]
    )["Attributes"]
    return bool(attrs["ApproximateNumberOfMessages"] == "0" and attrs["ApproximateNumberOfMessagesNotVisible"] == "0")
