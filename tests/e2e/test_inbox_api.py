"""The inbox read API through the proxy's HTTP on the local stack (issue 13 §1): list, paginate,
filter, open, page the history and mark read -- as owner and as agent, with another tenant seeing
nothing and a hidden contact absent."""

from __future__ import annotations

import json
import time
from typing import Any

import httpx
import psycopg
import pytest

from ponte.localstack.jwt_tokens import mint_token
from ponte.localstack.seed import seed_tenant
from ponte.localstack.stack import LocalStack
from ponte.services.intake import SECRET_HEADER
from tests.e2e.conftest import OTHER_USER
from tests.e2e.test_webhook_providers import wait_for
from tests.unit.test_intake_service import DEMO

pytestmark = pytest.mark.e2e

AGENT = "00000000-0000-4000-8000-00000000d0a7"
BASE_TS = int(time.time()) - 3600
PHONES = {"ana": "5511987650101", "bia": "5511987650102", "caio": "5511987650103"}


def inbound(who: str, message_id: str, text: str | None, offset: int, image: bool = False) -> bytes:
    payload = json.loads((DEMO / "messages.upsert__text-inbound-v2__01.json").read_bytes())
    data = payload["data"]
    data["key"] = {"remoteJid": f"{PHONES[who]}@s.whatsapp.net", "fromMe": False, "id": message_id}
    data["pushName"] = who.capitalize()
    data["messageTimestamp"] = BASE_TS + offset
    if image:
        data["messageType"] = "imageMessage"
        data["message"] = {"imageMessage": {"caption": text, "mimetype": "image/jpeg", "fileLength": "1000"}}
    else:
        data["message"] = {"conversation": text}
    return json.dumps(payload).encode()


class Api:
    def __init__(self, stack: LocalStack, user: str) -> None:
        self._stack = stack
        self._token = mint_token(stack.secrets.jwt_secret, sub=user)

    def get(self, path: str, **params: Any) -> httpx.Response:
        headers = {"Authorization": f"Bearer {self._token}"}
        return httpx.get(f"{self._stack.proxy_url}{path}", params=params, headers=headers, timeout=30)

    def post(self, path: str, body: Any = None) -> httpx.Response:
        headers = {"Authorization": f"Bearer {self._token}"}
        return httpx.post(f"{self._stack.proxy_url}{path}", json=body, headers=headers, timeout=30)


@pytest.fixture
def inbox(stack: LocalStack) -> LocalStack:
    """Three customers: Ana wrote three times, Bia once, Caio sent a photo with a caption, last."""
    bodies = [
        inbound("ana", "ANA1", "Oi, bom dia", 0),
        inbound("ana", "ANA2", "Vocês entregam em Campinas?", 60),
        inbound("bia", "BIA1", "Quero cancelar meu pedido", 120),
        inbound("ana", "ANA3", "Preciso do boleto " + "x" * 300, 180),
        inbound("caio", "CAIO1", "Olha a foto do defeito", 240, image=True),
    ]
    for body in bodies:
        response = httpx.post(
            stack.webhook_url(), content=body, headers={SECRET_HEADER: stack.secrets.demo_webhook_secret}, timeout=30
        )
        assert response.json()["outcome"] == "accepted", response.text
    assert len(wait_for(stack, "select 1 from public.messages", 5)) == 5
    assert stack.demo is not None
    with psycopg.connect(stack.dsn) as conn:
        seed_tenant(conn, tenant_id=stack.demo.tenant_id, name="Loja Demo", user_id=AGENT,
                    email="agente@loja-demo.local", role="agent")  # fmt: skip
    return stack


def by_phone(page: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {item["contact"]["phone"].removeprefix("+55")[2:]: item for item in page["items"]}


def test_the_inbox_lists_newest_first_with_previews_unread_counts_and_leads(inbox: LocalStack) -> None:
    assert inbox.demo is not None
    owner = Api(inbox, inbox.demo.user_id)
    response = owner.get("/conversations")
    assert response.status_code == 200, response.text
    page = response.json()
    assert page["next_cursor"] is None
    assert [i["contact"]["phone"] for i in page["items"]] == ["+5511987650103", "+5511987650101", "+5511987650102"]
    caio, ana, bia = page["items"]
    assert caio["last_message"]["kind"] == "image" and caio["last_message"]["preview"] == "Olha a foto do defeito"
    assert ana["unread_count"] == 3 and bia["unread_count"] == 1
    assert len(ana["last_message"]["preview"]) == 160 and ana["last_message"]["preview"].endswith("…")
    assert ana["contact"]["display_name"] == "Ana"
    assert ana["lead"]["stage"] == "new"
    assert ana["status"] == "open" and ana["instance_id"] == inbox.demo.instance_id
    # pages of two: the cursor walks on without overlap and ends
    first = owner.get("/conversations", limit=2).json()
    second = owner.get("/conversations", limit=2, cursor=first["next_cursor"]).json()
    assert [i["id"] for i in first["items"] + second["items"]] == [i["id"] for i in page["items"]]
    assert second["next_cursor"] is None


def test_reading_is_per_user_and_drives_the_unread_filter(inbox: LocalStack) -> None:
    assert inbox.demo is not None
    owner, agent = Api(inbox, inbox.demo.user_id), Api(inbox, AGENT)
    ana = by_phone(owner.get("/conversations").json())["987650101"]
    receipt = owner.post(f"/conversations/{ana['id']}/read")
    assert receipt.status_code == 200, receipt.text
    assert receipt.json()["unread_count"] == 0 and receipt.json()["conversation_id"] == ana["id"]
    unread = by_phone(owner.get("/conversations", unread="true").json())
    assert set(unread) == {"987650102", "987650103"}
    assert by_phone(owner.get("/conversations").json())["987650101"]["unread_count"] == 0
    # the agent has read nothing: all three are unread for them
    assert len(agent.get("/conversations", unread="true").json()["items"]) == 3


def test_filters_and_bad_parameters(inbox: LocalStack) -> None:
    assert inbox.demo is not None
    owner = Api(inbox, inbox.demo.user_id)
    assert len(owner.get("/conversations", status="open", instance_id=inbox.demo.instance_id).json()["items"]) == 3
    assert owner.get("/conversations", status="closed").json()["items"] == []
    assert owner.get("/conversations", lead_stage="won").json()["items"] == []
    assert len(owner.get("/conversations", lead_stage="new").json()["items"]) == 3
    since = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(BASE_TS + 200))
    assert list(by_phone(owner.get("/conversations", updated_since=since).json())) == ["987650103"]
    with psycopg.connect(inbox.dsn) as conn:
        conn.execute("update public.conversations set sla_due_at = now() - interval '5 minutes', priority = 'high'"
                     " where chat_key = '+5511987650102'")  # fmt: skip
        conn.execute("update public.conversations set sla_due_at = now() + interval '20 minutes'"
                     " where chat_key = '+5511987650101'")  # fmt: skip
    breached = owner.get("/conversations", sla="breached").json()["items"]
    assert [i["contact"]["phone"] for i in breached] == ["+5511987650102"] and breached[0]["sla_breached"]
    assert [i["contact"]["phone"] for i in owner.get("/conversations", sla="due_soon").json()["items"]] == [
        "+5511987650101"
    ]
    assert len(owner.get("/conversations", priority="high").json()["items"]) == 1
    for params, code in (
        ({"limit": "0"}, "invalid_limit"),
        ({"limit": "101"}, "invalid_limit"),
        ({"priority": "urgent"}, "invalid_priority"),
        ({"sla": "late"}, "invalid_sla"),
        ({"unread": "yes"}, "invalid_unread"),
        ({"cursor": "bm90LWEtY3Vyc29y"}, "invalid_cursor"),
        ({"instance_id": "x' or 1=1"}, "invalid_instance_id"),
        ({"updated_since": "yesterday"}, "invalid_time"),
    ):
        response = owner.get("/conversations", **params)
        assert (response.status_code, response.json()["code"]) == (400, code), params
    assert owner.get("/conversations/not-an-id").json()["code"] == "invalid_conversation_id"


def test_a_conversation_and_its_history_by_cursor(inbox: LocalStack) -> None:
    assert inbox.demo is not None
    agent = Api(inbox, AGENT)
    ana = by_phone(agent.get("/conversations").json())["987650101"]
    detail = agent.get(f"/conversations/{ana['id']}")
    assert detail.status_code == 200, detail.text
    body = detail.json()
    assert body["id"] == ana["id"] and body["contact"] == ana["contact"]
    assert body["lead"]["stage"] == "new" and "source" in body["lead"] and "score_parts" in body["lead"]
    assert body["customer"] is None and isinstance(body["suggestions"], list)
    first = agent.get(f"/conversations/{ana['id']}/messages", limit=2).json()
    assert [m["body"][:5] for m in first["items"]] == ["Preci", "Vocês"]
    assert all(m["direction"] == "in" and m["conversation_id"] == ana["id"] for m in first["items"])
    rest = agent.get(f"/conversations/{ana['id']}/messages", limit=2, before=first["next_cursor"]).json()
    assert [m["body"] for m in rest["items"]] == ["Oi, bom dia"] and rest["next_cursor"] is None


def test_another_tenant_sees_nothing_and_a_hidden_contact_is_gone(inbox: LocalStack) -> None:
    assert inbox.demo is not None
    owner, stranger = Api(inbox, inbox.demo.user_id), Api(inbox, OTHER_USER)
    ana = by_phone(owner.get("/conversations").json())["987650101"]
    assert stranger.get("/conversations").json() == {"items": [], "next_cursor": None}
    for response in (
        stranger.get(f"/conversations/{ana['id']}"),
        stranger.get(f"/conversations/{ana['id']}/messages"),
        stranger.post(f"/conversations/{ana['id']}/read"),
    ):
        assert (response.status_code, response.json()["code"]) == (404, "conversation_not_found")
    assert httpx.get(f"{inbox.proxy_url}/conversations", timeout=30).status_code == 401
    hidden = owner.post("/contacts/hide", {"phone": "+5511987650101"})
    assert hidden.status_code == 200, hidden.text
    deadline = time.monotonic() + 15
    while "987650101" in by_phone(owner.get("/conversations").json()) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert set(by_phone(owner.get("/conversations").json())) == {"987650102", "987650103"}
    assert owner.get(f"/conversations/{ana['id']}").status_code == 404


def test_contacts_by_name_or_any_form_of_the_number_and_leads(inbox: LocalStack) -> None:
    assert inbox.demo is not None
    agent = Api(inbox, AGENT)
    for q in ("ana", "ANA", "+55 11 98765-0101", "11987650101", "1187650101", "(11) 8765-0101", "0101"):
        found = agent.get("/contacts", q=q).json()["items"]
        assert [c["phone"] for c in found] == ["+5511987650101"], q
        assert len(found[0]["conversation_ids"]) == 1
    assert len(agent.get("/contacts").json()["items"]) == 3
    assert agent.get("/contacts", q="%").json()["items"] == []
    leads = agent.get("/leads", stage="new").json()
    assert {lead["contact"]["phone"] for lead in leads["items"]} == {
        "+5511987650101",
        "+5511987650102",
        "+5511987650103",
    }
    assert agent.get("/leads", score_min="101").json()["code"] == "invalid_score_min"
    first = agent.get("/leads", limit=2).json()
    rest = agent.get("/leads", limit=2, cursor=first["next_cursor"]).json()
    assert len({lead["id"] for lead in first["items"] + rest["items"]}) == 3
    assert Api(inbox, OTHER_USER).get("/leads").json()["items"] == []


def test_search_ignores_accents_follows_portuguese_stems_and_escapes_the_snippet(inbox: LocalStack) -> None:
    assert inbox.demo is not None
    httpx.post(
        inbox.webhook_url(),
        content=inbound("bia", "BIA2", "<b>Os cartões</b> não passam", 300),
        headers={SECRET_HEADER: inbox.secrets.demo_webhook_secret},
        timeout=30,
    )
    wait_for(inbox, "select 1 from public.messages where provider_message_id = 'BIA2'", 1)
    owner = Api(inbox, inbox.demo.user_id)
    for q in ("cartoes", "cartões", "CARTÕES"):
        hits = owner.get("/search", q=q).json()["items"]
        assert [h["message"]["snippet"] for h in hits] == ["&lt;b&gt;Os <mark>cartões</mark>&lt;/b&gt; não passam"], q
        assert hits[0]["conversation"]["contact"]["phone"] == "+5511987650102"
    assert [h["conversation"]["contact"]["phone"] for h in owner.get("/search", q="entregar").json()["items"]] == [
        "+5511987650101"
    ]  # "entregam" and "entregar" share a stem
    assert owner.get("/search").json()["code"] == "invalid_query"
    (both,) = owner.get("/search", q="cartoes passar").json()["items"]
    assert both["message"]["snippet"] == "&lt;b&gt;Os <mark>cartões</mark>&lt;/b&gt; não <mark>passam</mark>"
    assert owner.get("/search", q="cartoes -passam").json()["items"] == []  # web search syntax: NOT
    assert Api(inbox, OTHER_USER).get("/search", q="cartoes").json()["items"] == []
