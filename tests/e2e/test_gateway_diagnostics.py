"""The diagnostics log through the proxy: filters, cursor pagination, RLS, retention."""

from __future__ import annotations

import pytest

import functions.app as functions_app
from tests.e2e.gateway_support import AGENT, GatewayEnv

pytestmark = pytest.mark.e2e

# EventBridge's scheduled event, as Lambda receives it
SCHEDULED_EVENT = {
    "version": "0",
    "id": "53dc4d37-cffa-4f76-80c9-8b7d4a4d2eaa",
    "detail-type": "Scheduled Event",
    "source": "aws.events",
    "account": "123456789012",
    "time": "2026-11-23T12:00:00Z",
    "region": "us-east-1",
    "resources": ["arn:aws:events:us-east-1:123456789012:rule/ponte-diagnostics-cleanup"],
    "detail": {},
}


def test_admins_page_through_filtered_diagnostics(gateway: GatewayEnv) -> None:
    env = gateway
    # GIVEN webhook rows and gateway-call rows (two 504s, then a success)
    env.conversation_with("5511987650006")
    env.evo.fail("status", "504", times=2)
    assert env.call("GET", f"/instances/{env.evo_instance}/status").status_code == 200
    total = len(env.sql("select id from public.proxy_diagnostics where tenant_id = %s", env.tenant_id))
    assert total >= 4
    # WHEN an admin pages through everything, two at a time
    seen: list[int] = []
    cursor = None
    while True:
        query = "limit=2" + (f"&cursor={cursor}" if cursor else "")
        page = env.call("GET", f"/diagnostics?{query}").json()
        seen.extend(item["id"] for item in page["items"])
        cursor = page["next_cursor"]
        if cursor is None:
            break
    # THEN every row comes once, newest first
    assert len(seen) == total == len(set(seen)) and seen == sorted(seen, reverse=True)
    # AND filters narrow it
    timeouts = env.call("GET", f"/diagnostics?outcome=timeout&instance_id={env.evo_instance}").json()["items"]
    assert [(i["event"], i["status_code"], i["error_code"]) for i in timeouts] == [
        ("status", 504, "gateway_timeout")
    ] * 2
    assert all(i["route"] == "gateway GET /instance/connectionState/{instance}" for i in timeouts)
    future = env.call("GET", "/diagnostics?since=2099-01-01T00:00:00Z").json()["items"]
    assert future == []


def test_agents_and_strangers_read_nothing_and_bad_cursors_are_refused(gateway: GatewayEnv) -> None:
    env = gateway
    env.conversation_with("5511987650007")
    assert env.call("GET", "/diagnostics", user=AGENT).json()["items"] == []
    bad = env.call("GET", "/diagnostics?cursor=not-a-cursor")
    assert (bad.status_code, bad.json()["code"]) == (400, "invalid_cursor")
    bad = env.call("GET", "/diagnostics?since=yesterday")
    assert (bad.status_code, bad.json()["code"]) == (400, "invalid_time")


def test_the_scheduled_cleanup_keeps_30_days(gateway: GatewayEnv) -> None:
    env = gateway
    env.conversation_with("5511987650008")
    with env.stack.db.as_service() as conn:  # type: ignore[union-attr]
        for days in (31, 45):
            conn.execute(
                "insert into public.proxy_diagnostics (tenant_id, route, outcome, occurred_at)"
                " values (%s, 'old', 'accepted', now() - make_interval(days => %s))",
                (env.tenant_id, days),
            )
    before = len(env.sql("select id from public.proxy_diagnostics"))
    result = functions_app.diagnostics_cleanup(SCHEDULED_EVENT, None)
    assert result == {"deleted": 2}
    assert len(env.sql("select id from public.proxy_diagnostics")) == before - 2
    assert env.sql("select 1 from public.proxy_diagnostics where route = 'old'") == []
