"""Idempotent storage of canonical messages: contact (by any alias), conversation, message."""

from __future__ import annotations

from typing import Any

import psycopg
from psycopg.types.json import Jsonb

from ponte.adapters.postgres.db import Database
from ponte.domain.events import Identity, MessageEvent
from ponte.ports.store import IngestStore


def resolve_contact(conn: psycopg.Connection[Any], tenant_id: str, identity: Identity, name: str | None) -> str:
    """The contact for ``identity``, found by any of its aliases or created; aliases are recorded."""
    aliases = sorted({identity.key, *identity.aliases})
    row = conn.execute(
        "select contact_id::text as id from public.contact_aliases where tenant_id = %s and alias = any(%s) limit 1",
        (tenant_id, aliases),
    ).fetchone()
    if row is None:
        row = conn.execute(
            "insert into public.contacts (tenant_id, identity_key, phone_e164, display_name)"
            " values (%s, %s, %s, %s)"
            " on conflict (tenant_id, identity_key) do update"
            " set display_name = coalesce(excluded.display_name, public.contacts.display_name), updated_at = now()"
            " returning id::text as id",
            (tenant_id, identity.key, identity.phone_e164, name),
        ).fetchone()
    elif name:
        conn.execute(
            "update public.contacts set display_name = %s, updated_at = now()"
            " where id = %s and display_name is distinct from %s",
            (name, row["id"], name),
        )
    assert row is not None
    contact_id: str = row["id"]
    conn.execute(
        "insert into public.contact_aliases (tenant_id, alias, contact_id)"
        " select %s, a, %s from unnest(%s::text[]) a on conflict do nothing",
        (tenant_id, contact_id, aliases),
    )
    return contact_id


class PgIngestStore(IngestStore):
    def __init__(self, db: Database) -> None:
        self._db = db

    def save_message(self, tenant_id: str, instance_id: str, event: MessageEvent) -> bool:
        with self._db.as_service(tenant_id) as conn:
            name = event.push_name if event.direction.value == "in" else None
            contact_id = resolve_contact(conn, tenant_id, event.chat, name)
            conversation = conn.execute(
                "insert into public.conversations (tenant_id, instance_id, contact_id, chat_key, last_message_at)"
                " values (%s, %s, %s, %s, %s)"
                " on conflict (tenant_id, instance_id, chat_key) do update"
                " set last_message_at = greatest(public.conversations.last_message_at, excluded.last_message_at)"
                " returning id::text as id",
                (tenant_id, instance_id, contact_id, event.chat.key, event.occurred_at),
            ).fetchone()
            assert conversation is not None
            inserted = conn.execute(
                "insert into public.messages (tenant_id, instance_id, conversation_id, contact_id, chat_key,"
                " provider_message_id, direction, kind, body, media, quoted_message_id, occurred_at)"
                " values (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)"
                " on conflict (tenant_id, instance_id, chat_key, provider_message_id, direction) do nothing"
                " returning id",
                (
                    tenant_id,
                    instance_id,
                    conversation["id"],
                    contact_id,
                    event.chat.key,
                    event.provider_message_id,
                    event.direction.value,
                    event.kind.value,
                    event.text,
                    Jsonb(event.media.model_dump(exclude_none=True)) if event.media else None,
                    event.quoted_message_id,
                    event.occurred_at,
                ),
            ).fetchone()
            return inserted is not None
