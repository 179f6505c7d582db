"""GET /metrics (Prometheus, parsed with prometheus-client's own parser) and the operations alerts on
the admins' topic, each raised once (issue 17)."""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime, timedelta

import httpx
import psycopg
import pytest
from prometheus_client.parser import text_string_to_metric_families

import functions.app as functions_app
from ponte.localstack.seed import DEMO_AGENT_ID, seed_tenant
from ponte.localstack.stack import LocalStack
from tests.e2e.conftest import OTHER_TENANT, OTHER_USER
from tests.e2e.realtime_helpers import user_token
from tests.e2e.test_operations_flow import OpsApi, conversation_of, ops, post_inbound, setup_team, until
from tests.e2e.test_realtime_py import connect, subscribe

pytestmark = pytest.mark.e2e
__all__ = ["ops"]  # the fixture (Bia joins the demo tenant)


def scrape(stack: LocalStack, token: str | None) -> httpx.Response:
    headers = {"Authorization": f"Bearer {token}"} if token is not None else {}
    return httpx.get(f"{stack.proxy_url}/metrics", headers=headers, timeout=30)


def samples(text: str) -> dict[str, list[tuple[dict[str, str], float]]]:
    found: dict[str, list[tuple[dict[str, str], float]]] = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            found.setdefault(sample.name, []).append((dict(sample.labels), sample.value))
    return found


def test_metrics_need_a_token_and_show_each_admin_their_tenants_only(ops: LocalStack) -> None:
    stack = ops
    assert stack.demo is not None
    demo = stack.demo
    setup_team(stack, automatic=False)
    post_inbound(stack, "ana", "MET1", "Oi, quero comprar")
    conversation = conversation_of(stack, "ana")
    until(stack, "select 1 from public.conversations where id = %s and state = 'waiting'", (conversation,))
    with psycopg.connect(stack.dsn) as conn:  # another tenant's instance and open conversation
        seed_tenant(conn, tenant_id=OTHER_TENANT, name="Outra", user_id=OTHER_USER, email="b@outra.local",
                    instance_id="00000000-0000-4000-8000-0000000017d1", webhook_secret="outra")  # fmt: skip
    # GIVEN no token, a wrong one, an agent's JWT: refused
    for token, status in ((None, 401), ("not-the-token", 401), (user_token(stack, DEMO_AGENT_ID), 403)):
        refused = scrape(stack, token)
        assert refused.status_code == status and refused.json()["code"] in ("unauthorized", "forbidden")
    # WHEN the scraper's token is used: every tenant, in Prometheus' text format
    full = scrape(stack, stack.secrets.metrics_token)
    assert full.status_code == 200 and full.headers["content-type"].startswith("text/plain; version=0.0.4")
    found = samples(full.text)
    assert ({"tenant_id": demo.tenant_id, "state": "waiting"}, 1.0) in found["ponte_conversations"]
    team_queue = [v for labels, v in found["ponte_queue_conversations"] if labels["tenant_id"] == demo.tenant_id]
    assert team_queue == [1.0]
    assert {labels["tenant_id"] for labels, _ in found["ponte_instance_up"]} == {demo.tenant_id, OTHER_TENANT}
    accepted = [v for labels, v in found["ponte_webhooks_total"] if labels == {"provider": "evolution",
                                                                            "outcome": "accepted"}]  # fmt: skip
    assert accepted and accepted[0] >= 1
    assert found["ponte_ingest_batch_seconds_count"][0][1] >= 1
    queues = {labels["queue"] for labels, _ in found["ponte_sqs_messages"]}
    assert {"ingest", "lifecycle"} <= queues
    assert all(name.startswith("ponte_") for name in found)
    assert "Ana" not in full.text and "5511" not in full.text  # ids only, never a name or a number
    # AND the owner's own JWT: only their tenant
    mine = samples(scrape(stack, user_token(stack, demo.user_id)).text)
    assert {labels["tenant_id"] for labels, _ in mine["ponte_instance_up"]} == {demo.tenant_id}


def test_alerts_reach_the_admins_once(ops: LocalStack) -> None:
    stack = ops
    assert stack.demo is not None
    demo = stack.demo
    team = setup_team(stack, automatic=False)
    owner = OpsApi(stack, demo.user_id)
    settings = owner.get("/operations-settings").json()["settings"]
    settings["alerts"] = {"queue_long_threshold": 1, "negative_spike_count": 1, "negative_spike_window_minutes": 60}
    assert owner.put("/operations-settings", {"settings": settings}).status_code == 200
    post_inbound(stack, "bia", "ALERT1", "Estou muito irritada, o produto veio quebrado e ninguém responde")
    conversation = conversation_of(stack, "bia")
    until(stack, "select 1 from public.conversations where id = %s and state = 'waiting'", (conversation,))
    until(stack, "select 1 from public.message_analyses where conversation_id = %s", (conversation,))
    now = datetime.now(UTC)

    async def scenario() -> list[dict[str, object]]:
        admin = await connect(stack, user_token(stack, demo.user_id))
        agent = await connect(stack, user_token(stack, DEMO_AGENT_ID))
        try:
            _, feed = await subscribe(admin, f"tenant:{demo.tenant_id}:admin")
            _, refused = await subscribe(agent, f"tenant:{demo.tenant_id}:admin")
            assert feed.state_names() == ["SUBSCRIBED"] and refused.state_names()[0] == "CHANNEL_ERROR"
            # WHEN the SLA (critical, 15 min) is at 85 % and the instance lost its session
            with psycopg.connect(stack.dsn) as conn:
                conn.execute(
                    "update public.conversations set priority = 'critical', sla_due_at = %s, waiting_since = %s"
                    " where id = %s",
                    (now + timedelta(minutes=2), now - timedelta(minutes=13), conversation),
                )
                conn.execute("update public.whatsapp_instances set status = 'close' where id = %s", (demo.instance_id,))
            first = await asyncio.to_thread(functions_app.lifecycle_timers_handler, {}, None)
            assert (first["alerts_sla_warning"], first["alerts_queue_long"], first["alerts_instance_disconnected"],
                    first["alerts_negative_spike"]) == (1, 1, 1, 1)  # fmt: skip
            # AND once more with nothing new: nothing raised again
            again = await asyncio.to_thread(functions_app.lifecycle_timers_handler, {}, None)
            assert sum(v for k, v in again.items() if k.startswith("alerts_")) == 0
            # WHEN the SLA then breaks: its own alert, and the breach in the KPIs' events
            with psycopg.connect(stack.dsn) as conn:
                conn.execute("update public.conversations set sla_due_at = %s where id = %s",
                             (now - timedelta(seconds=5), conversation))  # fmt: skip
            broke = await asyncio.to_thread(functions_app.lifecycle_timers_handler, {}, None)
            assert (broke["alerts_sla_breached"], broke["sla_breached"]) == (1, 1)
            await feed.wait_for(lambda r: sum(b["event"] == "ops_alert" for b in r.broadcasts) >= 5)
            await asyncio.sleep(0.5)
            return [b["payload"] for b in feed.broadcasts if b["event"] == "ops_alert"]
        finally:
            await admin.close()
            await agent.close()

    alerts = asyncio.run(scenario())
    kinds = sorted(str(a["kind"]) for a in alerts)
    assert kinds == ["instance_disconnected", "negative_spike", "queue_long", "sla_breached", "sla_warning"]
    queue = next(a for a in alerts if a["kind"] == "queue_long")
    assert (queue["team_id"], queue["value"], queue["threshold"]) == (team, 1.0, 1.0)
    warning = next(a for a in alerts if a["kind"] == "sla_warning")
    assert warning["conversation_id"] == conversation
    # the report counts them
    today = {"from": (now - timedelta(days=1)).isoformat(), "to": (now + timedelta(days=1)).isoformat()}
    report = owner.get("/reports/kpis", **today).json()
    assert report["alerts"] == {"sla_warning": 1, "sla_breached": 1, "queue_long": 1, "negative_spike": 1,
                                "instance_disconnected": 1}  # fmt: skip
    assert report["sla_breaches"] == 1
    # a reconnected instance clears its alert, and a later disconnection alerts again
    with psycopg.connect(stack.dsn) as conn:
        conn.execute("update public.whatsapp_instances set status = 'open' where id = %s", (demo.instance_id,))
    functions_app.lifecycle_timers_handler({}, None)
    with psycopg.connect(stack.dsn) as conn:
        conn.execute("update public.whatsapp_instances set status = 'close' where id = %s", (demo.instance_id,))
    time.sleep(0.1)
    assert functions_app.lifecycle_timers_handler({}, None)["alerts_instance_disconnected"] == 1
