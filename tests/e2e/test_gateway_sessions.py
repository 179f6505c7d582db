"""Session recovery through the proxy and the ingest queue: reconnects, reset total, QR to admins."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from ponte.adapters.sqs import SqsEventQueue
from ponte.domain.envelope import IngestEnvelope
from ponte.domain.events import ConnectionEvent, ConnectionState, Provider, QrEvent
from ponte.domain.realtime import InstanceQrPayload
from tests.e2e.gateway_support import AGENT, GatewayEnv

pytestmark = pytest.mark.e2e


def broadcasts(env: GatewayEnv, event: str) -> list[dict[str, object]]:
    return env.sql("select topic, payload from realtime.messages where event = %s order by inserted_at", event)


def enqueue(env: GatewayEnv, *events: ConnectionEvent | QrEvent) -> None:
    """What the webhook intake hands to the ingest queue for connection / QR webhooks."""
    queue = SqsEventQueue(env.stack.settings.ingest_queue_url or "", env.stack.sqs)
    now = datetime.now(tz=UTC)
    queue.publish(
        [
            IngestEnvelope(tenant_id=env.tenant_id, instance_id=env.evo_instance, received_at=now, event=e)
            for e in events
        ]
    )


def test_not_logged_gets_three_reconnects_then_a_reset_whose_qr_reaches_the_admins(gateway: GatewayEnv) -> None:
    env = gateway
    # GIVEN a session that is not logged in and that restarts do not bring back
    env.evo.status, env.evo.stay_down = "not_logged", True
    # WHEN an admin asks for a reconnect
    response = env.call("POST", f"/instances/{env.evo_instance}/reconnect")
    assert response.status_code == 200, response.text
    body = response.json()
    # THEN three reconnects ran, the second with the alternate credentials, then a reset total
    restarts = [key for op, key in env.evo.calls if op == "restart"]
    assert restarts == ["evo-key-primary", "evo-key-alternate", "evo-key-primary"]
    assert (env.evo.count("logout"), env.evo.count("start")) == (1, 1)
    assert body["status"] == "qr_pending" and body["recovery"]["resets"] == 1
    assert body["recovery"]["phase"] == "awaiting_qr" and body["reason"] == "qr_published"
    assert body["qr"]["qr_code"].startswith("2@fakeqr") and body["qr"]["pairing_code"]
    # AND the new code went to the admins' private topic, with the instance's status changes
    qr = broadcasts(env, "instance_qr_updated")
    assert [r["topic"] for r in qr] == [f"tenant:{env.tenant_id}:admin"]
    assert InstanceQrPayload.model_validate(qr[0]["payload"]).qr_code == body["qr"]["qr_code"]
    statuses = [r["payload"]["status"] for r in broadcasts(env, "instance_status_changed")]  # type: ignore[index]
    assert statuses[-1] == "qr_pending" and "resetting" in statuses
    # AND every gateway call is in the diagnostics log
    ops = [r["event"] for r in env.sql("select event from public.proxy_diagnostics where route like 'gateway %%'")]
    assert ops.count("restart") == 3 and ops.count("logout") == 1 and ops.count("start") == 1


def test_a_not_logged_event_recovers_with_one_reconnect(gateway: GatewayEnv) -> None:
    env = gateway
    env.evo.status, env.evo.reconnect_fixes = "not_logged", True
    # WHEN the gateway reports the session logged out (connection.update close 401)
    enqueue(
        env, ConnectionEvent(provider=Provider.EVOLUTION, instance="demo", state=ConnectionState.CLOSE, status_code=401)
    )

    # THEN one reconnect brings it back (the recovery's state commits when its run ends)
    def recovered() -> list[dict[str, object]]:
        return env.sql(
            "select state, last_reason from public.instance_sessions where instance_id = %s and last_reason = %s",
            env.evo_instance,
            "recovered",
        )

    state = env.wait(recovered)
    assert state and state[0]["state"]["phase"] == "healthy"
    assert env.evo.count("restart") == 1 and env.evo.status == "connected"
    statuses = [r["payload"]["status"] for r in broadcasts(env, "instance_status_changed")]  # type: ignore[index]
    assert "reconnecting" in statuses and statuses[-1] == "connected"


def test_a_qr_loop_is_rate_limited(gateway: GatewayEnv) -> None:
    env = gateway
    # WHEN a looping gateway emits 120 different QR codes in a burst
    codes = [QrEvent(provider=Provider.EVOLUTION, instance="demo", qr_code=f"2@loop{i:04d}") for i in range(120)]
    for start in range(0, len(codes), 40):
        enqueue(env, *codes[start : start + 40])

    def suppressed() -> int:
        rows = env.sql("select state from public.instance_sessions where instance_id = %s", env.evo_instance)
        return int(rows[0]["state"].get("qr_suppressed", 0)) if rows else 0

    assert env.wait(
        lambda: env.queue_drained() and suppressed() + len(broadcasts(env, "instance_qr_updated")) >= 120, 60
    )
    # THEN the admins got one code (the first), not 120
    published = broadcasts(env, "instance_qr_updated")
    assert 1 <= len(published) <= 2  # one per 10 s window
    assert suppressed() == 120 - len(published)


def test_reset_with_new_qr_and_status_are_for_admins_only(gateway: GatewayEnv) -> None:
    env = gateway
    for method, path in (("POST", "reset"), ("POST", "reconnect"), ("GET", "status")):
        response = env.call(method, f"/instances/{env.evo_instance}/{path}", user=AGENT)
        assert response.status_code == 404 and response.json()["code"] == "instance_not_found"
    assert env.evo.calls == []
    # an admin's reset gives a fresh QR at once
    response = env.call("POST", f"/instances/{env.wpp_instance}/reset")
    assert response.status_code == 200, response.text
    assert response.json()["qr"]["qr_code"] and response.json()["status"] == "qr_pending"
    assert (env.wpp.count("logout"), env.wpp.count("start")) == (1, 1)


def test_status_check_retries_504s(gateway: GatewayEnv) -> None:
    env = gateway
    env.evo.fail("status", "504", times=2)
    response = env.call("GET", f"/instances/{env.evo_instance}/status")
    assert response.status_code == 200, response.text
    assert response.json()["status"] == "connected"
    outcomes = [
        (r["outcome"], r["status_code"])
        for r in env.sql("select outcome, status_code from public.proxy_diagnostics where event = 'status' order by id")
    ]
    assert outcomes == [("timeout", 504), ("timeout", 504), ("accepted", 200)]
