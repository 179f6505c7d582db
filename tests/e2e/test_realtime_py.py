"""The official realtime-py client (vsn 1.0.0) against the local stack's realtime server."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import psycopg
import pytest
from realtime import AsyncRealtimeChannel, AsyncRealtimeClient

from ponte.domain.realtime import ConversationPayload, MessagePayload
from ponte.localstack.stack import LocalStack
from tests.e2e.conftest import OTHER_TENANT, OTHER_USER
from tests.e2e.realtime_helpers import Recorder, post_webhook, user_token, webhook_body

pytestmark = pytest.mark.e2e

QUIET_SECONDS = 1.0  # how long a client that must receive nothing is watched after the others got theirs


async def connect(stack: LocalStack, token: str) -> AsyncRealtimeClient:
    client = AsyncRealtimeClient(f"{stack.supabase_url}/realtime/v1", token=stack.anon_key(), auto_reconnect=False)
    await client.connect()
    await client.set_auth(token)
    return client


async def subscribe(
    client: AsyncRealtimeClient,
    topic: str,
    *,
    private: bool = True,
    changes: list[dict[str, Any]] | None = None,
) -> tuple[AsyncRealtimeChannel, Recorder]:
    recorder = Recorder()
    channel = client.channel(topic, {"config": {"private": private, "broadcast": None, "presence": None}})
    channel.on_broadcast("*", recorder.on_broadcast)
    channel.on_system(recorder.on_system)
    for change in changes or []:
        channel.on_postgres_changes(callback=recorder.on_change, **change)
    await channel.subscribe(recorder.on_state)
    await recorder.wait_for(lambda r: any(s in ("SUBSCRIBED", "CHANNEL_ERROR", "TIMED_OUT") for s in r.state_names()))
    return channel, recorder


def test_member_receives_the_webhook_message_and_another_tenant_nothing(stack: LocalStack) -> None:
    assert stack.demo is not None
    demo = stack.demo
    tenant = demo.tenant_id

    async def scenario() -> None:
        member = await connect(stack, user_token(stack, demo.user_id))
        outsider = await connect(stack, user_token(stack, OTHER_USER))
        try:
            # GIVEN a member on the tenant's private topic and an outsider on their own tenant's
            _, inbox = await subscribe(member, f"tenant:{tenant}")
            _, outsider_own = await subscribe(outsider, f"tenant:{OTHER_TENANT}")
            assert inbox.state_names() == ["SUBSCRIBED"]
            assert outsider_own.state_names() == ["SUBSCRIBED"]
            # AND the outsider is refused on the tenant's topic
            _, refused = await subscribe(outsider, f"tenant:{tenant}")
            assert refused.state_names()[0] == "CHANNEL_ERROR"
            assert "Unauthorized: You do not have permissions to read from this Channel topic" in str(refused.states)

            # WHEN the gateway posts a message to the proxy
            message_id = uuid.uuid4().hex[:20].upper()
            response = await asyncio.to_thread(post_webhook, stack, webhook_body(message_id))
            assert response.status_code == 200 and response.json()["outcome"] == "accepted"

            # THEN the member receives it, as the contract describes it
            await inbox.wait_for(lambda r: {"message_created", "conversation_created"} <= events_of(r))
            created = next(b for b in inbox.broadcasts if b["event"] == "message_created")
            message = MessagePayload.model_validate(created["payload"])
            assert message.direction == "in" and message.body is not None and "tamanho 38" in message.body
            assert str(message.tenant_id) == tenant
            assert "id" in created["meta"]  # database broadcasts carry realtime.messages.id
            conversation = next(b for b in inbox.broadcasts if b["event"] == "conversation_created")
            assert ConversationPayload.model_validate(conversation["payload"]).id == message.conversation_id
            # AND the other tenant's member receives nothing
            await asyncio.sleep(QUIET_SECONDS)
            assert outsider_own.broadcasts == []
            assert refused.broadcasts == []
        finally:
            await member.close()
            await outsider.close()

    asyncio.run(scenario())


def test_admin_topic_is_for_owners_and_admins(stack: LocalStack) -> None:
    assert stack.demo is not None
    demo = stack.demo
    agent = str(uuid.uuid4())
    with psycopg.connect(stack.dsn) as conn:
        conn.execute("insert into auth.users (id, email) values (%s, 'agente@demo.local')", (agent,))
        conn.execute(
            "insert into public.memberships (tenant_id, user_id, role) values (%s, %s, 'agent')",
            (demo.tenant_id, agent),
        )
    topic = f"tenant:{demo.tenant_id}:admin"

    async def scenario() -> None:
        owner = await connect(stack, user_token(stack, demo.user_id))
        member = await connect(stack, user_token(stack, agent))
        try:
            _, admin_feed = await subscribe(owner, topic)
            _, refused = await subscribe(member, topic)
            assert admin_feed.state_names() == ["SUBSCRIBED"]
            assert refused.state_names()[0] == "CHANNEL_ERROR"
            # WHEN the instance's status changes
            with psycopg.connect(stack.dsn) as conn:
                row = conn.execute(
                    "select status from public.whatsapp_instances where id = %s", (demo.instance_id,)
                ).fetchone()
                assert row is not None and row[0] != "open"
                conn.execute("update public.whatsapp_instances set status = 'open' where id = %s", (demo.instance_id,))
            await admin_feed.wait_for(lambda r: "instance_status_changed" in events_of(r))
            status = admin_feed.broadcasts[0]["payload"]
            assert (status["status"], status["previous_status"]) == ("open", row[0])
        finally:
            await owner.close()
            await member.close()

    asyncio.run(scenario())


def test_expired_token_is_told_and_refresh_keeps_the_channel(stack: LocalStack) -> None:
    assert stack.demo is not None
    demo = stack.demo
    tenant = demo.tenant_id

    async def scenario() -> None:
        # GIVEN two members whose tokens expire in 2 seconds; one refreshes its token in time
        expiring = await connect(stack, user_token(stack, demo.user_id, ttl_seconds=2))
        refreshing = await connect(stack, user_token(stack, demo.user_id, ttl_seconds=2))
        try:
            _, told = await subscribe(expiring, f"tenant:{tenant}")
            _, kept = await subscribe(refreshing, f"tenant:{tenant}")
            await refreshing.set_auth(user_token(stack, demo.user_id, ttl_seconds=600))
            # THEN the first is told its token expired and its channel closes
            await told.wait_for(lambda r: "CLOSED" in r.state_names(), timeout=10)
            errors = [e for s, e in told.states if s == "CHANNEL_ERROR"]
            assert errors and "Token has expired" in str(errors[0])
            # AND the refreshed one still receives its tenant's events
            await asyncio.to_thread(post_webhook, stack, webhook_body())
            await kept.wait_for(lambda r: "message_created" in events_of(r))
            assert "CHANNEL_ERROR" not in kept.state_names()
        finally:
            await expiring.close()
            await refreshing.close()

    asyncio.run(scenario())


def test_a_join_with_an_expired_or_forged_token_is_refused(stack: LocalStack) -> None:
    assert stack.demo is not None
    demo = stack.demo

    async def scenario() -> None:
        expired = await connect(stack, user_token(stack, demo.user_id, ttl_seconds=-5))
        forged = await connect(stack, user_token(stack, demo.user_id) + "x")
        try:
            _, a = await subscribe(expired, f"tenant:{demo.tenant_id}")
            _, b = await subscribe(forged, f"tenant:{demo.tenant_id}")
            assert a.states[0][0] == "CHANNEL_ERROR" and "InvalidJWTToken: Token has expired" in str(a.states[0][1])
            assert b.states[0][0] == "CHANNEL_ERROR" and "JwtSignatureError" in str(b.states[0][1])
        finally:
            await expired.close()
            await forged.close()

    asyncio.run(scenario())


def test_postgres_changes_are_filtered_by_each_subscribers_rls(stack: LocalStack) -> None:
    assert stack.demo is not None
    demo = stack.demo
    tenant = demo.tenant_id
    inserts = {"event": "INSERT", "schema": "public", "table": "messages"}

    async def scenario() -> None:
        member = await connect(stack, user_token(stack, demo.user_id))
        outsider = await connect(stack, user_token(stack, OTHER_USER))
        try:
            _, mine = await subscribe(member, "inbox-changes", private=False, changes=[inserts])
            _, filtered = await subscribe(
                member, "inbox-outbound", private=False, changes=[{**inserts, "filter": "direction=eq.out"}]
            )
            _, theirs = await subscribe(outsider, "inbox-changes", private=False, changes=[inserts])
            for recorder in (mine, filtered, theirs):
                assert recorder.state_names() == ["SUBSCRIBED"], recorder.states
                await recorder.wait_for(lambda r: r.systems)
                assert recorder.systems[0]["message"] == "Subscribed to PostgreSQL"
            # WHEN an inbound message of the tenant is stored
            await asyncio.to_thread(post_webhook, stack, webhook_body())
            await mine.wait_for(lambda r: r.changes)
            data = mine.changes[0]["data"]
            assert (data["type"], data["table"], data["record"]["tenant_id"]) == ("INSERT", "messages", tenant)
            assert {"name": "body", "type": "text"} in data["columns"]
            # THEN the filter on direction=out and the other tenant's member got nothing
            await asyncio.sleep(QUIET_SECONDS)
            assert filtered.changes == []
            assert theirs.changes == []
        finally:
            await member.close()
            await outsider.close()

    asyncio.run(scenario())


def events_of(recorder: Recorder) -> set[str]:
    return {str(b["event"]) for b in recorder.broadcasts}
