"""Broadcast from database: the realtime shim, the triggers, and who may read which topic."""

from __future__ import annotations

import json
import uuid
from typing import Any

import psycopg
import pytest
from psycopg.rows import dict_row

from ponte.domain.realtime import (
    ConversationDeletedPayload,
    ConversationPayload,
    DiagnosticPayload,
    InstanceStatusPayload,
    MessagePayload,
)
from ponte.localstack.seed import seed_tenant

pytestmark = pytest.mark.integration

TENANT_A = "00000000-0000-4000-8000-0000000000a1"
OWNER_A = "00000000-0000-4000-8000-0000000000a2"
AGENT_A = "00000000-0000-4000-8000-0000000000a3"
INSTANCE_A = "00000000-0000-4000-8000-0000000000a4"
TENANT_B = "00000000-0000-4000-8000-0000000000b1"
OWNER_B = "00000000-0000-4000-8000-0000000000b2"


@pytest.fixture
def conn(db_dsn: str) -> Any:
    with psycopg.connect(db_dsn) as seed:
        seed_tenant(
            seed,
            tenant_id=TENANT_A,
            name="A",
            user_id=OWNER_A,
            email="a@a.local",
            instance_id=INSTANCE_A,
            webhook_secret="s",
        )
        seed_tenant(seed, tenant_id=TENANT_A, name="A", user_id=AGENT_A, email="g@a.local", role="agent")
        seed_tenant(seed, tenant_id=TENANT_B, name="B", user_id=OWNER_B, email="b@b.local")
        seed.commit()
    with psycopg.connect(db_dsn, row_factory=dict_row) as c:
        yield c


def insert_conversation(conn: psycopg.Connection[Any]) -> str:
    contact = conn.execute(
        "insert into public.contacts (tenant_id, identity_key) values (%s, %s) returning id::text",
        (TENANT_A, f"+55119{uuid.uuid4().int % 10**8:08d}"),
    ).fetchone()
    row = conn.execute(
        "insert into public.conversations (tenant_id, instance_id, contact_id, chat_key)"
        " values (%s, %s, %s, %s) returning id::text, contact_id::text",
        (TENANT_A, INSTANCE_A, contact["id"], str(uuid.uuid4())),  # type: ignore[index]
    ).fetchone()
    assert row is not None
    return str(row["id"])


def insert_message(conn: psycopg.Connection[Any], conversation_id: str, body: str = "olá") -> str:
    row = conn.execute(
        "insert into public.messages (tenant_id, instance_id, conversation_id, contact_id, chat_key,"
        " provider_message_id, direction, kind, body, media, occurred_at)"
        " select tenant_id, instance_id, id, contact_id, chat_key, %s, 'in', 'image', %s,"
        ' \'{"mimetype": "image/jpeg", "caption": "foto"}\'::jsonb, now()'
        " from public.conversations where id = %s returning id::text",
        (str(uuid.uuid4()), body, conversation_id),
    ).fetchone()
    assert row is not None
    return str(row["id"])


def broadcasts(conn: psycopg.Connection[Any]) -> list[dict[str, Any]]:
    return conn.execute(
        "select topic, event, payload, private, extension from realtime.messages order by inserted_at, event"
    ).fetchall()


def can_read(conn: psycopg.Connection[Any], user_id: str | None, topic: str) -> bool:
    """Supabase's join check: a probe row, then select it as the user with realtime.topic set."""
    with conn.transaction(force_rollback=True):
        probe = conn.execute(
            "insert into realtime.messages (topic, extension, private) values (%s, 'broadcast', true) returning id",
            (topic,),
        ).fetchone()
        role = "authenticated" if user_id else "anon"
        claims = {"role": role, **({"sub": user_id} if user_id else {})}
        conn.execute(
            "select set_config('role', %s, true), set_config('realtime.topic', %s, true),"
            " set_config('request.jwt.claims', %s, true)",
            (role, topic, json.dumps(claims)),
        )
        visible = conn.execute("select count(*) as n from realtime.messages where id = %s", (probe["id"],)).fetchone()  # type: ignore[index]
    return bool(visible and visible["n"] == 1)


def test_send_adds_an_id_sets_the_topic_and_stays_private_by_default(conn: psycopg.Connection[Any]) -> None:
    conn.execute("select realtime.send('{\"a\": 1}'::jsonb, 'ping', 'room:1')")
    assert conn.execute("select realtime.topic() as t").fetchone() == {"t": "room:1"}
    conn.execute("select realtime.send('{\"id\": \"keep\"}'::jsonb, 'ping', 'room:2', false)")
    rows = conn.execute(
        "select topic, payload, private, id::text as id from realtime.messages order by topic"
    ).fetchall()
    assert [r["topic"] for r in rows] == ["room:1", "room:2"]
    assert rows[0]["payload"]["a"] == 1 and rows[0]["payload"]["id"] == rows[0]["id"]
    assert rows[0]["private"] is True
    assert rows[1]["payload"] == {"id": "keep"} and rows[1]["private"] is False


def test_send_never_aborts_the_caller(conn: psycopg.Connection[Any]) -> None:
    # GIVEN a user whose RLS forbids inserting into realtime.messages
    conn.execute("select set_config('role', 'authenticated', true)")
    # WHEN realtime.send is called directly (not from a security-definer function)
    conn.execute("select realtime.send('{}'::jsonb, 'x', 'tenant:whatever')")
    # THEN nothing is sent and the transaction goes on
    assert conn.execute("select 1 as ok").fetchone() == {"ok": 1}
    conn.execute("reset role")
    assert broadcasts(conn) == []


def test_message_insert_broadcasts_to_tenant_and_conversation(conn: psycopg.Connection[Any]) -> None:
    conversation_id = insert_conversation(conn)
    message_id = insert_message(conn, conversation_id)
    rows = [r for r in broadcasts(conn) if r["event"] == "message_created"]
    assert sorted(r["topic"] for r in rows) == sorted([f"tenant:{TENANT_A}", f"conversation:{conversation_id}"])
    assert all(r["private"] and r["extension"] == "broadcast" for r in rows)
    payload = MessagePayload.model_validate(rows[0]["payload"])
    assert str(payload.id) == message_id
    assert payload.body == "olá" and payload.media is not None and payload.media.caption == "foto"


def test_message_update_broadcasts_only_real_changes(conn: psycopg.Connection[Any]) -> None:
    message_id = insert_message(conn, insert_conversation(conn))
    conn.execute("update public.messages set body = body where id = %s", (message_id,))
    conn.execute("update public.messages set status = 'read' where id = %s", (message_id,))
    updated = [r for r in broadcasts(conn) if r["event"] == "message_updated"]
    assert len(updated) == 2  # tenant + conversation, once
    assert MessagePayload.model_validate(updated[0]["payload"]).status == "read"


def test_conversation_events_name_what_changed(conn: psycopg.Connection[Any]) -> None:
    conversation_id = insert_conversation(conn)
    conn.execute("update public.conversations set last_message_at = now() where id = %s", (conversation_id,))
    conn.execute(
        "update public.conversations set priority = 'high', assigned_to = %s where id = %s",
        (AGENT_A, conversation_id),
    )
    rows = [r for r in broadcasts(conn) if r["event"].startswith("conversation_")]
    assert [r["event"] for r in rows] == ["conversation_created", "conversation_updated"]
    assert all(r["topic"] == f"tenant:{TENANT_A}" for r in rows)
    updated = ConversationPayload.model_validate(rows[1]["payload"])
    assert updated.changed == ["priority", "assigned_to"]
    assert updated.priority == "high" and str(updated.assigned_to) == AGENT_A
    assert ConversationPayload.model_validate(rows[0]["payload"]).changed == []


def test_a_purged_conversation_is_announced_without_anything_of_the_person(conn: psycopg.Connection[Any]) -> None:
    # GIVEN a conversation with a message, of a contact that is then hidden (the purge, fast delete path)
    conversation_id = insert_conversation(conn)
    insert_message(conn, conversation_id)
    row = conn.execute(
        "select ct.identity_key as key from public.contacts ct join public.conversations c on c.contact_id = ct.id"
        " where c.id = %s",
        (conversation_id,),
    ).fetchone()
    assert row is not None
    key = row["key"]
    conn.execute("select private.purge_contact_data(%s, array[%s])", (TENANT_A, key))
    # THEN the tenant is told the conversation is gone, by its id only
    deleted = [r for r in broadcasts(conn) if r["event"] == "conversation_deleted"]
    assert [r["topic"] for r in deleted] == [f"tenant:{TENANT_A}"]
    payload = ConversationDeletedPayload.model_validate(deleted[0]["payload"])
    assert (str(payload.id), str(payload.tenant_id)) == (conversation_id, TENANT_A)
    # AND every earlier event naming the conversation was purged with it
    assert [r["event"] for r in broadcasts(conn) if conversation_id in json.dumps(r["payload"])] == [
        "conversation_deleted"
    ]


def test_instance_status_and_rejections_go_to_the_admin_topic(conn: psycopg.Connection[Any]) -> None:
    conn.execute("update public.whatsapp_instances set status = 'open' where id = %s", (INSTANCE_A,))
    conn.execute("update public.whatsapp_instances set status = 'open' where id = %s", (INSTANCE_A,))
    for outcome, code in (("accepted", None), ("rejected", "missing_key")):
        conn.execute(
            "insert into public.proxy_diagnostics (tenant_id, instance_id, route, outcome, status_code, error_code)"
            " values (%s, %s, 'POST /webhooks', %s, 422, %s)",
            (TENANT_A, INSTANCE_A, outcome, code),
        )
    rows = sorted(broadcasts(conn), key=lambda r: r["event"], reverse=True)
    assert [(r["topic"], r["event"]) for r in rows] == [
        (f"tenant:{TENANT_A}:admin", "instance_status_changed"),
        (f"tenant:{TENANT_A}:admin", "diagnostic_recorded"),
    ]
    status = InstanceStatusPayload.model_validate(rows[0]["payload"])
    assert (status.status, status.previous_status) == ("open", "unknown")
    assert DiagnosticPayload.model_validate(rows[1]["payload"]).error_code == "missing_key"


@pytest.mark.parametrize(
    ("user", "topic", "allowed"),
    [
        (OWNER_A, f"tenant:{TENANT_A}", True),
        (AGENT_A, f"tenant:{TENANT_A}", True),
        (OWNER_B, f"tenant:{TENANT_A}", False),
        (None, f"tenant:{TENANT_A}", False),
        (OWNER_A, f"tenant:{TENANT_A}:admin", True),
        (AGENT_A, f"tenant:{TENANT_A}:admin", False),
        (OWNER_B, f"tenant:{TENANT_A}:admin", False),
        (OWNER_A, "tenant:not-a-uuid", False),
        (OWNER_A, f"tenant:{TENANT_A.upper()}", False),
        (OWNER_A, "room:lobby", False),
    ],
)
def test_topic_read_policy(conn: psycopg.Connection[Any], user: str | None, topic: str, allowed: bool) -> None:
    assert can_read(conn, user, topic) is allowed


def test_conversation_topic_is_for_members_of_its_tenant(conn: psycopg.Connection[Any]) -> None:
    conversation_id = insert_conversation(conn)
    conn.commit()
    assert can_read(conn, AGENT_A, f"conversation:{conversation_id}") is True
    assert can_read(conn, OWNER_B, f"conversation:{conversation_id}") is False
    assert can_read(conn, AGENT_A, f"conversation:{uuid.uuid4()}") is False


def test_users_cannot_send_forged_events(conn: psycopg.Connection[Any]) -> None:
    conn.execute("select set_config('role', 'authenticated', true)")
    conn.execute("select set_config('request.jwt.claims', %s, true)", (json.dumps({"sub": OWNER_A}),))
    with pytest.raises(psycopg.errors.InsufficientPrivilege):
        conn.execute("select private.broadcast_to_tenant(%s, 'message_created', '{}'::jsonb)", (TENANT_A,))
    conn.rollback()
    conn.execute("select set_config('role', 'authenticated', true)")
    conn.execute("select set_config('request.jwt.claims', %s, true)", (json.dumps({"sub": OWNER_A}),))
    with pytest.raises(psycopg.errors.InsufficientPrivilege):
        conn.execute(
            "insert into realtime.messages (topic, extension, event, payload, private)"
            " values (%s, 'broadcast', 'message_created', '{}', true)",
            (f"tenant:{TENANT_A}",),
        )


def test_broadcast_rows_are_announced_at_commit_only(db_dsn: str, conn: psycopg.Connection[Any]) -> None:
    with psycopg.connect(db_dsn, autocommit=True) as listener:
        listener.execute("listen realtime_local_broadcast")
        conn.execute("select realtime.send('{\"n\": 1}'::jsonb, 'ping', 'room:1')")
        assert list(listener.notifies(timeout=0.2)) == []
        conn.commit()
        notes = list(listener.notifies(timeout=2, stop_after=1))
    assert len(notes) == 1
    (note,) = json.loads(notes[0].payload)  # one statement's broadcasts travel as one array
    assert (note["topic"], note["event"], note["private"], note["payload"]["n"]) == ("room:1", "ping", True, 1)


def test_a_statements_broadcasts_travel_in_arrays_under_notifys_limit(
    db_dsn: str, conn: psycopg.Connection[Any]
) -> None:
    with psycopg.connect(db_dsn, autocommit=True) as listener:
        listener.execute("listen realtime_local_broadcast")
        conn.execute(
            "insert into realtime.messages (topic, extension, event, payload, private)"
            " select 'room:1', 'broadcast', 'ping', jsonb_build_object('n', g, 'pad', repeat('x', %s)), true"
            " from generate_series(1, 40) g",
            (300,),
        )
        conn.execute(  # one row too large for any note travels as its id
            "insert into realtime.messages (topic, extension, event, payload, private)"
            " values ('room:1', 'broadcast', 'big', jsonb_build_object('pad', repeat('y', 9000)), true)"
        )
        conn.commit()
        notes = list(listener.notifies(timeout=2))
    assert all(len(n.payload.encode()) < 8000 for n in notes)
    rows = [row for n in notes for row in json.loads(n.payload)]
    assert [r["payload"]["n"] for r in rows[:40]] == list(range(1, 41))  # in order, none lost
    assert len(notes) < 41 and set(rows[40]) == {"id"}


def test_change_triggers_follow_the_publication(conn: psycopg.Connection[Any]) -> None:
    covered = [r["local_sync_change_triggers"] for r in conn.execute("select realtime.local_sync_change_triggers()")]
    assert sorted(covered) == ["public.conversations", "public.messages"]
    conn.execute("alter publication supabase_realtime drop table public.conversations")
    covered = [r["local_sync_change_triggers"] for r in conn.execute("select realtime.local_sync_change_triggers()")]
    assert covered == ["public.messages"]
    triggers = conn.execute(
        "select tgrelid::regclass::text as t from pg_trigger where tgname = 'zz_realtime_local_changes'"
    ).fetchall()
    assert [r["t"] for r in triggers] == ["messages"]
