"""Sending through the Cloud API on the local stack: the fake gateway's Graph API takes the send and
posts Meta's signed statuses back; the 24-hour window is enforced before Meta is called; templates
are listed (cached) and sent through the same outbox."""

from __future__ import annotations

import json
import time
import uuid
from typing import Any

import httpx
import pytest

from ponte.localstack import fake_cloud
from ponte.localstack.fake_cloud import FakeCloudNumber
from ponte.localstack.stack import LocalStack
from tests.e2e.conftest import OTHER_USER
from tests.e2e.stack_calls import call, sql, wait

pytestmark = pytest.mark.e2e

WA_ID = "553188887777"  # a fake pre-2016 mobile: Meta gives it without the 9th digit


def number(stack: LocalStack) -> FakeCloudNumber:
    assert stack.gateway is not None and stack.demo is not None
    return stack.gateway.fake.cloud_numbers[stack.demo.cloud_phone_number_id]


def user_writes(stack: LocalStack, wa_id: str = WA_ID, hours_ago: float = 0) -> str:
    """A user's signed text to the demo's Cloud API number; the conversation's id once stored."""
    payload = fake_cloud.inbound_text(number(stack), wa_id, "Oi, meu pedido atrasou")
    message = payload["entry"][0]["changes"][0]["value"]["messages"][0]
    message["timestamp"] = str(int(time.time() - hours_ago * 3600))
    assert fake_cloud.post_signed(number(stack), payload) == 200
    rows = wait(
        lambda: sql(
            stack,
            "select m.conversation_id::text as id from public.messages m where m.provider_message_id = %s",
            message["id"],
        )
    )
    assert rows, "the Cloud API message was not ingested"
    return str(rows[0]["id"])


def send(stack: LocalStack, conversation: str, body: dict[str, Any], route: str = "messages") -> httpx.Response:
    return call(
        stack, "POST", f"/conversations/{conversation}/{route}", json={"idempotency_key": uuid.uuid4().hex, **body}
    )


def test_a_reply_inside_the_window_is_sent_and_its_statuses_reach_read(stack: LocalStack) -> None:
    conversation = user_writes(stack)
    response = send(stack, conversation, {"text": "Já verifiquei: sai hoje à tarde."})
    assert response.status_code == 201, response.text
    sent = response.json()
    assert sent["status"] == "sent" and sent["provider_message_id"].startswith("wamid.FAKEOUT")
    # Meta got the 13-digit number and the text
    (request,) = number(stack).sent
    assert (request["to"], request["type"], request["text"]["body"]) == (
        "5531988887777",
        "text",
        "Já verifiquei: sai hoje à tarde.",
    )

    # THEN Meta's signed statuses move it sent -> delivered -> read
    def read() -> bool:
        rows = sql(stack, "select status from public.messages where id = %s", sent["message_id"])
        return rows == [{"status": "read"}]

    assert wait(read), sql(stack, "select status from public.messages where id = %s", sent["message_id"])


def test_a_free_form_reply_outside_the_window_is_refused_with_the_template_route(stack: LocalStack) -> None:
    conversation = user_writes(stack, wa_id="553188886666", hours_ago=25)
    response = send(stack, conversation, {"text": "Oi, ainda precisa de ajuda?"})
    assert response.status_code == 422, response.text
    body = response.json()
    assert body["code"] == "outside_service_window"
    assert body["data"] == {"template_route": f"/conversations/{conversation}/templates"}
    assert number(stack).sent == []  # Meta was never called
    outbox = sql(stack, "select status, error_code from public.outbound_messages where conversation_id = %s",
                 conversation)  # fmt: skip
    assert outbox == [{"status": "failed", "error_code": "outside_service_window"}]
    # AND the template route works: an approved template goes outside the window
    template = {"name": "retomar_atendimento", "language": "pt_BR"}
    sent = send(stack, conversation, {"template": template}, route="templates")
    assert sent.status_code == 201, sent.text
    (request,) = number(stack).sent
    assert request["type"] == "template" and request["template"] == {"name": "retomar_atendimento",
                                                                      "language": {"code": "pt_BR"}}  # fmt: skip
    stored = sql(stack, "select kind, body, direction from public.messages where id = %s", sent.json()["message_id"])
    assert stored == [{"kind": "text", "body": "[modelo] retomar_atendimento", "direction": "out"}]


def test_a_template_with_parameters_and_meta_error_codes(stack: LocalStack) -> None:
    conversation = user_writes(stack, wa_id="553188885555")
    template = {
        "name": "pedido_enviado",
        "language": "pt_BR",
        "components": [
            {"type": "body", "parameters": [{"type": "text", "text": "Ana"}, {"type": "text", "text": "4412"}]}
        ],
    }
    first = send(stack, conversation, {"template": template}, route="templates")
    assert first.status_code == 201, first.text
    assert number(stack).sent[-1]["template"]["components"] == [
        {"type": "body", "parameters": [{"type": "text", "text": "Ana"}, {"type": "text", "text": "4412"}]}
    ]
    # a template Meta does not know: Meta's 132001 as a machine code
    unknown = send(stack, conversation, {"template": {"name": "nao_existe", "language": "pt_BR"}}, route="templates")
    assert (unknown.status_code, unknown.json()["code"]) == (422, "template_not_found")
    # Meta refusing for the pair rate: 131056 as a machine code, the outbox row failed with it
    number(stack).fail_next.append(131056)
    limited = send(stack, conversation, {"text": "mais uma"})
    assert (limited.status_code, limited.json()["code"]) == (422, "pair_rate_limited")


def test_template_list_is_synced_cached_and_only_for_cloud_instances(stack: LocalStack) -> None:
    assert stack.demo is not None
    first = call(stack, "GET", f"/instances/{stack.demo.cloud_instance_id}/templates")
    assert first.status_code == 200, first.text
    listed = first.json()
    assert [(t["name"], t["status"]) for t in listed["items"]] == [
        ("pedido_enviado", "APPROVED"),
        ("promocao_semana", "PAUSED"),
        ("retomar_atendimento", "APPROVED"),
    ]
    again = call(stack, "GET", f"/instances/{stack.demo.cloud_instance_id}/templates").json()
    assert again["synced_at"] == listed["synced_at"]  # served from the cache
    refreshed = call(stack, "GET", f"/instances/{stack.demo.cloud_instance_id}/templates?refresh=true").json()
    assert refreshed["synced_at"] > listed["synced_at"]
    evolution = call(stack, "GET", f"/instances/{stack.demo.instance_id}/templates")
    assert (evolution.status_code, evolution.json()["code"]) == (422, "unsupported_by_provider")
    # another tenant's member sees no such instance
    stranger = call(stack, "GET", f"/instances/{stack.demo.cloud_instance_id}/templates", user=OTHER_USER)
    assert stranger.status_code == 404


def test_hostile_template_and_content_requests_are_4xx(stack: LocalStack) -> None:
    conversation = user_writes(stack, wa_id="553188884444")
    cases: list[Any] = [
        {"template": {"name": "Robert'); drop table--", "language": "pt_BR"}},
        {"template": {"name": "a" * 600, "language": "pt_BR"}},
        {"template": {"name": "ok", "language": "pt_BR", "components": [{"type": "body"}] * 11}},
        {"template": {"name": "ok\u0000", "language": "pt_BR"}},
        {"template": "pedido_enviado"},
        {},
    ]
    for body in cases:
        response = send(stack, conversation, body, route="templates")
        assert response.status_code == 400, (body, response.text)
    deep = b'{"template":' + b"[" * 3000 + b"]" * 3000 + b', "idempotency_key": "abcdefgh12"}'
    response = call(stack, "POST", f"/conversations/{conversation}/templates", content=deep)
    assert 400 <= response.status_code < 500 and response.json()["code"]
    for body in (
        {"type": "location", "location": {"latitude": 91, "longitude": 0}},
        {"type": "fax"},
        {
            "type": "interactive",
            "interactive": {"body": "x", "buttons": [{"id": str(i), "title": "t"} for i in range(4)]},
        },
    ):
        response = send(stack, conversation, body)
        assert response.status_code == 400, (body, response.text)
    # another tenant's conversation does not exist for them
    stranger = call(
        stack, "POST", f"/conversations/{conversation}/templates", user=OTHER_USER,
        content=json.dumps({"template": {"name": "pedido_enviado"}, "idempotency_key": uuid.uuid4().hex}),
    )  # fmt: skip
    assert stranger.status_code == 404


def test_location_contact_and_interactive_go_through_the_cloud_api(stack: LocalStack) -> None:
    conversation = user_writes(stack, wa_id="553188883333")
    bodies = [
        {"type": "location", "location": {"latitude": -19.92, "longitude": -43.94, "name": "Loja Centro"}},
        {"type": "contact", "contact": {"name": "Suporte Loja", "phones": ["+55 31 3333-0000"]}},
        {"type": "interactive", "interactive": {"body": "Como prefere receber?",
                                                "buttons": [{"id": "retirar", "title": "Retirar"},
                                                            {"id": "entregar", "title": "Entregar"}]}},
    ]  # fmt: skip
    for body in bodies:
        response = send(stack, conversation, body)
        assert response.status_code == 201, response.text
    assert [r["type"] for r in number(stack).sent] == ["location", "contacts", "interactive"]
    kinds = sql(stack, "select kind from public.messages where conversation_id = %s and direction = 'out'"
                " order by occurred_at", conversation)  # fmt: skip
    assert [k["kind"] for k in kinds] == ["location", "contact", "text"]
