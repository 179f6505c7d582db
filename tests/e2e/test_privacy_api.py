"""Hide mode, erasure and the purge queue over the local stack: real HTTP, JWT, RLS, SQS (moto)."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest

from ponte.domain.hidden import PurgeRequest
from ponte.localstack.jwt_tokens import mint_token
from ponte.localstack.seed import seed_tenant
from ponte.localstack.stack import LocalStack
from ponte.services.intake import SECRET_HEADER
from tests.e2e.conftest import OTHER_USER

pytestmark = pytest.mark.e2e

DEMO = Path(__file__).resolve().parents[2] / "ponte/localstack/demo/evolution"
PAYLOAD = (DEMO / "messages.upsert__text-inbound-v2__01.json").read_bytes()  # from 5511987650001
LEGACY = (DEMO / "messages.upsert__text-inbound-legacy-jid__01.json").read_bytes()  # from 553187650002
AGENT = "00000000-0000-4000-8000-00000000d0a5"


def wait_until(check: Callable[[], bool], timeout: float = 20) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(0.1)
    return check()


class Api:
    def __init__(self, stack: LocalStack) -> None:
        self.stack = stack
        self.client = httpx.Client(base_url=stack.proxy_url, timeout=20)
        self.responses: list[httpx.Response] = []

    def call(self, method: str, path: str, token: str | None = None, **kw: Any) -> httpx.Response:
        headers = kw.pop("headers", {})
        if token:
            headers["Authorization"] = f"Bearer {token}"
        response = self.client.request(method, path, headers=headers, **kw)
        self.responses.append(response)
        return response

    def webhook(self, body: bytes) -> httpx.Response:
        assert self.stack.demo is not None
        return self.call(
            "POST",
            f"/webhooks/{self.stack.demo.provider}/{self.stack.demo.instance_id}",
            content=body,
            headers={"Content-Type": "application/json", SECRET_HEADER: self.stack.secrets.demo_webhook_secret},
        )

    def count(self, sql: str, *params: Any) -> int:
        with psycopg.connect(self.stack.dsn) as conn:
            return int(conn.execute(sql, params).fetchone()[0])  # type: ignore[index]


def contact_messages(api: Api, phone: str) -> int:
    return api.count(
        "select count(*) from public.messages m join public.contacts c on c.id = m.contact_id where c.phone_e164 = %s",
        phone,
    )


def agent_token(stack: LocalStack) -> str:
    assert stack.demo is not None
    with psycopg.connect(stack.dsn) as conn:
        seed_tenant(
            conn, tenant_id=stack.demo.tenant_id, name="Loja Demo", user_id=AGENT, email="ag@demo", role="agent"
        )
    return mint_token(stack.secrets.jwt_secret, sub=AGENT)


def hide_flow(stack: LocalStack, api: Api) -> None:
    """The whole privacy surface once; every response is kept for the secret scan."""
    owner = stack.demo_token()
    assert api.webhook(PAYLOAD).json()["outcome"] == "accepted"
    assert api.webhook(LEGACY).json()["outcome"] == "accepted"
    assert wait_until(lambda: contact_messages(api, "+5511987650001") == 1)
    # an agent may not hide; no token is a 401; a malformed body is a 400 with a machine code
    assert api.call("POST", "/contacts/hide", agent_token(stack), json={"phone": "+5511987650001"}).status_code == 403
    assert api.call("POST", "/contacts/hide", json={"phone": "+5511987650001"}).status_code == 401
    bad = api.call("POST", "/contacts/hide", owner, json={"phone": "1", "jid": "2"})
    assert (bad.status_code, bad.json()["code"]) == (400, "invalid_contact")
    # the owner hides the person by JID: every trace goes at once
    hidden = api.call("POST", "/contacts/hide", owner, json={"jid": "5511987650001@s.whatsapp.net"})
    assert hidden.status_code == 200, hidden.text
    body = hidden.json()
    assert body["contact"] == "+5511987650001" and body["deleted"]["counts"]["public.messages"] == 1
    assert contact_messages(api, "+5511987650001") == 0
    listed = api.call("GET", "/contacts/hidden", owner).json()
    assert [c["key"] for c in listed["contacts"]] == ["+5511987650001"]
    # the gate drops the person from now on
    again = api.webhook(PAYLOAD).json()
    assert again == {"outcome": "ignored", "reason": "hidden_contact"}
    # erasure on request of the other person, by typed number, without hiding them
    erased = api.call("POST", "/contacts/erase", owner, json={"phone": "(31) 98765-0002"})
    assert erased.status_code == 200 and erased.json()["deleted"]["counts"]["public.messages"] == 1
    assert api.call("GET", "/contacts/hidden", owner).json()["contacts"][0]["key"] == "+5511987650001"
    # unhide
    back = api.call("POST", "/contacts/unhide", owner, json={"phone": "+5511987650001"})
    assert back.json()["was_hidden"] is True
    assert api.call("GET", "/contacts/hidden", owner).json()["contacts"] == []
    assert api.call("GET", "/me", owner).status_code == 200


def test_hide_erase_unhide_over_http(stack: LocalStack) -> None:
    api = Api(stack)
    hide_flow(stack, api)
    # another tenant's owner cannot act on this tenant
    assert stack.demo is not None
    other = mint_token(stack.secrets.jwt_secret, sub=OTHER_USER)
    response = api.call(
        "POST", "/contacts/hide", other, json={"phone": "+5511987650001", "tenant_id": stack.demo.tenant_id}
    )
    assert response.status_code == 403
    with psycopg.connect(stack.dsn) as conn:
        audit = [r[0] for r in conn.execute("select action from public.privacy_audit order by id")]
    assert audit == ["hide", "erase", "unhide"]


def test_a_purge_queue_message_sweeps_what_slipped_in(stack: LocalStack) -> None:
    api = Api(stack)
    owner = stack.demo_token()
    assert api.call("POST", "/contacts/hide", owner, json={"phone": "+5511987650001"}).status_code == 200
    # GIVEN a row stored past every gate (as an in-flight message written by an older function might)
    assert stack.demo is not None
    with psycopg.connect(stack.dsn) as conn:
        conn.execute(
            "insert into public.contacts (tenant_id, identity_key, phone_e164) values (%s, %s, %s)",
            (stack.demo.tenant_id, "+5511987650001", "+5511987650001"),
        )
    assert api.count("select count(*) from public.contacts where phone_e164 = '+5511987650001'") == 1
    # WHEN a purge request is put on the purge queue THEN the functions sweep it
    stack.sqs.send_message(
        QueueUrl=stack.settings.purge_queue_url,
        MessageBody=PurgeRequest(tenant_id=stack.demo.tenant_id).model_dump_json(),
    )
    assert wait_until(
        lambda: api.count("select count(*) from public.contacts where phone_e164 = '+5511987650001'") == 0
    )
    assert wait_until(lambda: api.count("select count(*) from public.privacy_audit where action = 'sweep'") == 1)
