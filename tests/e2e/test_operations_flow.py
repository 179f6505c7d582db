"""Agent operations through the proxy's HTTP on the local stack (issue 17): a customer's message is
greeted, queued with its position, automatically assigned when an agent comes online, transferred
with a note, answered, resolved and rated (CSAT) -- every automatic message through the outbox and
the fake gateway; two agents racing for one conversation (exactly one wins); a note whose mention
reaches the mentioned agent only; hostile input on every new route."""

from __future__ import annotations

import asyncio
import json
import threading
import time
import uuid
from typing import Any

import httpx
import psycopg
import pytest
from psycopg.rows import dict_row

from ponte.localstack.seed import DEMO_AGENT_ID, seed_tenant
from ponte.localstack.stack import LocalStack
from ponte.services.intake import SECRET_HEADER
from tests.e2e.conftest import OTHER_USER
from tests.e2e.realtime_helpers import user_token
from tests.e2e.test_inbox_api import PHONES, Api, inbound
from tests.e2e.test_realtime_py import QUIET_SECONDS, connect, subscribe

pytestmark = pytest.mark.e2e

ANA = DEMO_AGENT_ID
BIA = "00000000-0000-4000-8000-0000000017b1"


class OpsApi(Api):
    def put(self, path: str, body: Any = None) -> httpx.Response:
        headers = {"Authorization": f"Bearer {self._token}"}
        return httpx.put(f"{self._stack.proxy_url}{path}", json=body, headers=headers, timeout=30)

    def raw(self, method: str, path: str, content: bytes) -> httpx.Response:
        headers = {"Authorization": f"Bearer {self._token}", "Content-Type": "application/json"}
        return httpx.request(method, f"{self._stack.proxy_url}{path}", content=content, headers=headers, timeout=30)


def post_inbound(stack: LocalStack, who: str, message_id: str, text: str) -> None:
    body = inbound(who, message_id, text, 0)
    payload = json.loads(body)
    payload["data"]["messageTimestamp"] = int(time.time())
    response = httpx.post(
        stack.webhook_url(),
        content=json.dumps(payload).encode(),
        headers={SECRET_HEADER: stack.secrets.demo_webhook_secret},
        timeout=30,
    )
    assert response.json()["outcome"] == "accepted", response.text


def until(stack: LocalStack, sql: str, args: tuple[Any, ...] = (), timeout: float = 30) -> dict[str, Any]:
    """The first row of ``sql`` once it has one (polled), or fail."""
    deadline = time.monotonic() + timeout
    while True:
        with psycopg.connect(stack.dsn, row_factory=dict_row) as conn:
            row = conn.execute(sql, args).fetchone()
        if row is not None:
            return row
        assert time.monotonic() < deadline, f"timed out waiting for: {sql}"
        time.sleep(0.1)


@pytest.fixture
def ops(stack: LocalStack) -> LocalStack:
    assert stack.demo is not None
    with psycopg.connect(stack.dsn) as conn:
        seed_tenant(conn, tenant_id=stack.demo.tenant_id, name="Loja Demo", user_id=BIA, email="bia@loja-demo.local",
                    role="agent")  # fmt: skip
    return stack


def setup_team(stack: LocalStack, *, automatic: bool) -> str:
    assert stack.demo is not None
    owner = OpsApi(stack, stack.demo.user_id)
    created = owner.post("/teams", {"name": "Suporte N1", "agent_capacity": 5})
    assert created.status_code == 201, created.text
    team = created.json()["id"]
    members = owner.put(f"/teams/{team}/members", {"user_ids": [ANA, BIA]})
    assert members.status_code == 200 and members.json()["members"] == sorted([ANA, BIA])
    settings = owner.get("/operations-settings").json()["settings"]
    settings["default_team_id"] = team
    for kind in settings["automatic_messages"]:
        settings["automatic_messages"][kind]["enabled"] = automatic
    saved = owner.put("/operations-settings", {"settings": settings})
    assert saved.status_code == 200, saved.text
    return str(team)


def conversation_of(stack: LocalStack, who: str) -> str:
    row = until(stack, "select c.id::text from public.conversations c join public.contacts k on k.id = c.contact_id"
                       " where k.phone_e164 = %s", ("+" + PHONES[who],))  # fmt: skip
    return str(row["id"])


def automatic(stack: LocalStack, conversation: str, kind: str) -> dict[str, Any]:
    return until(
        stack,
        "select o.status, o.origin, o.created_by, m.body from public.outbound_messages o"
        " join public.messages m on m.id = o.message_id"
        " where o.conversation_id = %s and o.automatic_kind = %s and o.status = 'sent'",
        (conversation, kind),
    )


def test_greeted_queued_assigned_transferred_resolved_and_rated(ops: LocalStack) -> None:
    assert ops.demo is not None
    team = setup_team(ops, automatic=True)
    owner, ana, bia = OpsApi(ops, ops.demo.user_id), OpsApi(ops, ANA), OpsApi(ops, BIA)

    # GIVEN nobody online, a customer writes: greeted with a protocol, routed to the default team, told her place
    post_inbound(ops, "ana", "OPS1", "Meu pedido não chegou ainda, podem verificar?")
    conversation = conversation_of(ops, "ana")
    greeting = automatic(ops, conversation, "greeting")
    protocol = until(ops, "select protocol from public.conversations where id = %s", (conversation,))["protocol"]
    assert greeting["origin"] == "automatic" and greeting["created_by"] is None
    assert greeting["body"].startswith("Olá, Ana! ") and protocol in greeting["body"]
    position = automatic(ops, conversation, "queue_position")
    assert position["body"].startswith("Você é o 1º da fila.")
    waiting = owner.get("/conversations", state="waiting", team_id=team).json()["items"]
    assert [(c["id"], c["state"], c["protocol"], c["assigned_to"]) for c in waiting] == [
        (conversation, "waiting", protocol, None)]  # fmt: skip

    # WHEN Ana comes online she gets it (automatic assignment)
    presence = ana.post("/presence", {"status": "online"})
    assert presence.status_code == 200 and presence.json()["status"] == "online"
    detail = ana.get(f"/conversations/{conversation}").json()
    assert (detail["state"], detail["assigned_to"], detail["team_id"]) == ("in_service", ANA, team)
    assert ana.get("/conversations", assigned_to="me").json()["items"][0]["id"] == conversation
    # the team's view: who is online, in which teams, with how many conversations (GET /agents)
    agents = {a["user_id"]: a for a in owner.get("/agents").json()["items"]}
    ana_row, bia_row = agents[ANA], agents[BIA]
    assert (ana_row["presence"], ana_row["open_conversations"], ana_row["team_ids"]) == ("online", 1, [team])
    assert (bia_row["email"], bia_row["presence"], bia_row["role"]) == ("bia@loja-demo.local", "offline", "agent")
    assert agents[ops.demo.user_id]["role"] == "owner" and agents[ops.demo.user_id]["email"]

    # AND she passes it to Bia with a note
    moved = ana.post(f"/conversations/{conversation}/transfer", {"agent_id": BIA, "note": "Cliente VIP, ver troca"})
    assert moved.status_code == 200, moved.text
    assert (moved.json()["state"], moved.json()["assigned_to"]) == ("in_service", BIA)
    notes = bia.get(f"/conversations/{conversation}/notes").json()["items"]
    assert [(n["body"], n["author_id"], n["mentions"]) for n in notes] == [("Cliente VIP, ver troca", ANA, [BIA])]

    # AND Bia answers (the first response) and resolves it
    sent = bia.post(f"/conversations/{conversation}/messages", {"text": "Oi Ana! Já verifiquei.",
                                                                "idempotency_key": uuid.uuid4().hex})  # fmt: skip
    assert sent.status_code == 201, sent.text
    resolved = bia.post(f"/conversations/{conversation}/resolve", {})
    assert resolved.status_code == 200 and resolved.json()["status"] == "closed"
    ask = automatic(ops, conversation, "csat_request")
    assert protocol in ask["body"] and "1 (péssimo) a 5 (ótimo)" in ask["body"]

    # THEN the customer's "5" is her rating: stored, thanked, and the conversation stays resolved
    time.sleep(1.1)  # gateways stamp whole seconds: her answer comes a second after the question
    post_inbound(ops, "ana", "OPS2", "5")
    csat = until(ops, "select score, agent_id::text, protocol from public.csat_responses where conversation_id = %s",
                 (conversation,))  # fmt: skip
    assert csat == {"score": 5, "agent_id": BIA, "protocol": protocol}
    assert automatic(ops, conversation, "csat_thanks")["body"] == "Obrigado pela sua avaliação!"
    assert owner.get(f"/conversations/{conversation}").json()["state"] == "resolved"

    # AND the audit trail tells the story, every event with its actor
    events = owner.get(f"/conversations/{conversation}/events").json()["items"]
    story = [(e["kind"], e["action"], e["actor_type"], e["agent_id"]) for e in events]
    assert story[:4] == [
        ("transition", "open", "customer", None),
        ("transition", "route", "system", None),
        ("transition", "assign", "system", ANA),
        ("transition", "transfer", "agent", BIA),
    ]
    assert sorted(story[4:6]) == [("first_response", None, "agent", BIA), ("reply", None, "agent", BIA)]
    assert story[6:] == [("transition", "resolve", "agent", BIA), ("csat", None, "customer", BIA)]
    first = next(e for e in events if e["kind"] == "first_response")
    assert first["value_seconds"] > 0
    # the history marks the automatic messages apart from Bia's
    history = owner.get(f"/conversations/{conversation}/messages").json()["items"]
    origins = [m["send"]["origin"] for m in history if m["direction"] == "out" and m["send"]]
    assert origins.count("automatic") == 4 and origins.count("agent") == 1


def test_two_agents_taking_the_same_conversation_exactly_one_wins(ops: LocalStack) -> None:
    setup_team(ops, automatic=False)
    post_inbound(ops, "bia", "RACE1", "Oi, quero comprar")
    conversation = conversation_of(ops, "bia")
    barrier = threading.Barrier(2)
    answers: dict[str, httpx.Response] = {}

    def take(user: str) -> None:
        api = OpsApi(ops, user)
        barrier.wait()
        answers[user] = api.post(f"/conversations/{conversation}/assign", {"agent_id": user})

    threads = [threading.Thread(target=take, args=(u,)) for u in (ANA, BIA)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    codes = sorted(r.status_code for r in answers.values())
    assert codes == [200, 409], {u: r.text for u, r in answers.items()}
    winner = next(u for u, r in answers.items() if r.status_code == 200)
    loser = answers[ANA if winner == BIA else BIA]
    assert loser.json()["code"] == "already_assigned"
    assert answers[winner].json()["assigned_to"] == winner
    # and the winner taking it again is told so, not given it twice
    again = OpsApi(ops, winner).post(f"/conversations/{conversation}/assign", {"agent_id": winner})
    assert again.status_code == 409 and again.json()["code"] == "already_yours"


def test_a_mention_reaches_the_mentioned_agent_only(ops: LocalStack) -> None:
    assert ops.demo is not None
    post_inbound(ops, "caio", "NOTE1", "Bom dia")
    conversation = conversation_of(ops, "caio")

    async def scenario() -> None:
        ana_client = await connect(ops, user_token(ops, ANA))
        bia_client = await connect(ops, user_token(ops, BIA))
        try:
            _, ana_feed = await subscribe(ana_client, f"user:{ANA}")
            _, bia_feed = await subscribe(bia_client, f"user:{BIA}")
            _, spying = await subscribe(bia_client, f"user:{ANA}")
            assert ana_feed.state_names() == ["SUBSCRIBED"] and bia_feed.state_names() == ["SUBSCRIBED"]
            assert spying.state_names()[0] == "CHANNEL_ERROR"  # a user's topic is that user's only
            owner = OpsApi(ops, ops.demo.user_id)  # type: ignore[union-attr]
            note = await asyncio.to_thread(
                owner.post, f"/conversations/{conversation}/notes", {"body": "@Ana pode ver?", "mentions": [ANA]}
            )
            assert note.status_code == 201, note.text
            await ana_feed.wait_for(lambda r: any(b["event"] == "mentioned" for b in r.broadcasts))
            mention = next(b for b in ana_feed.broadcasts if b["event"] == "mentioned")["payload"]
            assert (mention["conversation_id"], mention["note_id"]) == (conversation, note.json()["id"])
            assert mention["excerpt"] == "@Ana pode ver?"
            await asyncio.sleep(QUIET_SECONDS)
            assert bia_feed.broadcasts == [] and spying.broadcasts == []
        finally:
            await ana_client.close()
            await bia_client.close()

    asyncio.run(scenario())


def test_hostile_input_on_the_operations_routes(ops: LocalStack) -> None:
    assert ops.demo is not None
    team = setup_team(ops, automatic=False)
    post_inbound(ops, "ana", "HOST1", "Olá")
    conversation = conversation_of(ops, "ana")
    ana, outsider = OpsApi(ops, ANA), OpsApi(ops, OTHER_USER)
    deep = b'{"agent_id": ' + b"[" * 5000 + b"]" * 5000 + b"}"
    cases: list[tuple[httpx.Response, int, str]] = [
        (ana.raw("POST", f"/conversations/{conversation}/assign", deep), 422, "too_deep"),
        (ana.raw("POST", f"/conversations/{conversation}/assign", b"\x00\xff"), 400, "invalid_json"),
        (ana.raw("POST", f"/conversations/{conversation}/assign", b""), 400, "invalid_json"),
        (ana.post(f"/conversations/{conversation}/assign", [1, 2]), 400, "invalid_json"),
        (ana.post(f"/conversations/{conversation}/assign", {}), 400, "invalid_assign"),
        (ana.post(f"/conversations/{conversation}/assign", {"agent_id": ANA, "team_id": team}), 400, "invalid_assign"),
        (ana.post(f"/conversations/{conversation}/assign", {"agent_id": "x\u0000y"}), 400, "invalid_agent_id"),
        (ana.post(f"/conversations/{conversation}/assign", {"agent_id": BIA}), 403, "forbidden"),
        (ana.post(f"/conversations/{conversation}/assign", {"team_id": str(uuid.uuid4())}), 422, "unknown_team"),
        (ana.post(f"/conversations/{conversation}/assign", {"agent_id": ANA, "extra": 1}), 400, "invalid_body"),
        (ana.post("/conversations/not-a-uuid/assign", {"agent_id": ANA}), 400, "invalid_conversation_id"),
        (outsider.post(f"/conversations/{conversation}/assign", {"agent_id": OTHER_USER}), 404,
         "conversation_not_found"),
        (outsider.get(f"/conversations/{conversation}/events"), 404, "conversation_not_found"),
        (outsider.get(f"/conversations/{conversation}/notes"), 404, "conversation_not_found"),
        (ana.post(f"/conversations/{conversation}/notes", {"body": "x", "mentions": [str(i) for i in range(5000)]}),
         400, "invalid_body"),
        (ana.post(f"/conversations/{conversation}/notes", {"body": "oi", "mentions": [OTHER_USER]}), 422,
         "unknown_mention"),
        (ana.raw("POST", f"/conversations/{conversation}/notes", b'{"body": "\\ud800"}'), 201, ""),
        (ana.post(f"/conversations/{conversation}/notes", {"body": "y" * 5000}), 400, "invalid_body"),
        (ana.post(f"/conversations/{conversation}/snooze", {"until": "2020-01-01T00:00:00Z"}), 409, "snooze_in_past"),
        (ana.post(f"/conversations/{conversation}/snooze", {"until": "2099-01-01T00:00:00"}), 400, "invalid_time"),
        (ana.post(f"/conversations/{conversation}/transfer", {"agent_id": OTHER_USER}), 422, "unknown_agent"),
        (ana.post("/teams", {"name": "Hack"}), 403, "forbidden"),
        (ana.put("/routing-rules", {"rules": [{"name": "x", "team_id": team}]}), 403, "forbidden"),
        (outsider.get("/teams", tenant_id=ops.demo.tenant_id), 403, "forbidden"),
        (ana.get("/teams", tenant_id="nope"), 400, "invalid_tenant_id"),
        (ana.post("/presence", {"status": "sleeping"}), 400, "invalid_body"),
        (OpsApi(ops, ops.demo.user_id).put("/routing-rules", {"rules": [{"name": "r", "team_id": str(uuid.uuid4())}]}),
         422, "unknown_team"),
        (OpsApi(ops, ops.demo.user_id).put("/routing-rules", {"rules": [
            {"name": "r", "team_id": team, "conditions": {"intents": ["nonsense"]}}]}), 400, "invalid_body"),
        (OpsApi(ops, ops.demo.user_id).put("/operations-settings", {"settings": {"automatic_messages": {
            "greeting": {"enabled": True, "template": "Oi {senha}"}}}}), 400, "invalid_body"),
        (httpx.post(f"{ops.proxy_url}/conversations/{conversation}/resolve", json={}, timeout=30), 401, "unauthorized"),
    ]  # fmt: skip
    for response, status, code in cases:
        assert response.status_code == status, (response.request.url, response.text)
        if code:
            assert response.json()["code"] == code, (response.request.url, response.text)
    # the note with a lone surrogate was stored with it replaced, never a 500
    bodies = [n["body"] for n in ana.get(f"/conversations/{conversation}/notes").json()["items"]]
    assert bodies == ["\ufffd"]


def test_outside_business_hours_the_away_message_goes_once_instead_of_the_greeting(ops: LocalStack) -> None:
    assert ops.demo is not None
    setup_team(ops, automatic=True)
    owner = OpsApi(ops, ops.demo.user_id)
    # GIVEN the tenant closed today all day (its own holiday) and only open on Sundays at dawn
    today = time.strftime("%Y-%m-%d")
    hours = owner.put("/business-hours", {"items": [{"schedule": {
        "weekly": {"sun": [{"start": "03:00", "end": "03:01"}]},
        "holidays": [{"date": today, "name": "Inventário"}]}}]})  # fmt: skip
    assert hours.status_code == 200, hours.text
    assert "Natal" in {h["name"] for h in hours.json()["national_holidays"]}
    # WHEN a customer writes twice
    post_inbound(ops, "caio", "AWAY1", "Vocês estão abertos?")
    conversation = conversation_of(ops, "caio")
    away = automatic(ops, conversation, "away")
    post_inbound(ops, "caio", "AWAY2", "Alô?")
    until(ops, "select 1 from public.messages where provider_message_id = 'AWAY2'")
    until(ops, "select 1 from public.conversation_events where conversation_id = %s and action = 'route'",
          (conversation,))  # fmt: skip
    time.sleep(1.5)  # the second message's lifecycle job has run
    # THEN one away message with the protocol, and no greeting
    protocol = until(ops, "select protocol from public.conversations where id = %s", (conversation,))["protocol"]
    assert protocol in away["body"] and away["body"].startswith("Olá, Caio! Nosso atendimento está fechado")
    with psycopg.connect(ops.dsn) as conn:
        kinds = conn.execute(
            "select automatic_kind from public.outbound_messages where conversation_id = %s order by created_at",
            (conversation,),
        ).fetchall()
    assert [k for (k,) in kinds] == ["away"]
