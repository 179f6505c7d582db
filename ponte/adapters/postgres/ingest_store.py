"""Idempotent storage of canonical messages: contact (by any alias), conversation, message,
and the contact's lead on its first inbound message (same transaction)."""

from __future__ import annotations

from typing import Any

import psycopg
from psycopg.types.json import Jsonb

from ponte.adapters.postgres.db import Database
from ponte.adapters.postgres.leads import clear_sla_on_reply, create_lead_once
from ponte.domain.events import Direction, Identity, MessageEvent, MessageKind
from ponte.ports.store import IngestStore, SavedMessage


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

    def save_message(self, tenant_id: str, instance_id: str, event: MessageEvent) -> SavedMessage:
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
            inbound = event.direction is Direction.INBOUND
            if inserted is None:
                pending = _unanalysed(conn, tenant_id, instance_id, event) if inbound and _is_text(event) else None
                return SavedMessage(stored=False, message_id=pending, needs_analysis=pending is not None)
            message_id = str(inserted["id"])
            lead_id = None
            if inbound:
                lead_id = create_lead_once(
                    conn, tenant_id, contact_id, event, conversation_id=conversation["id"], message_id=message_id
                )
            else:
                clear_sla_on_reply(conn, conversation["id"])
            return SavedMessage(
                stored=True, message_id=message_id, lead_id=lead_id, needs_analysis=inbound and _is_text(event)
            )


def _is_text(event: MessageEvent) -> bool:
    return event.kind is MessageKind.TEXT and bool(event.text and event.text.strip())


def _unanalysed(conn: psycopg.Connection[Any], tenant_id: str, instance_id: str, event: MessageEvent) -> str | None:
    """The id of this already stored message when it has no analysis yet: a redelivery after the
    analyze job could not be enqueued enqueues it again (the analyze handler is idempotent)."""
    row = conn.execute(
        "select m.id::text as id from public.messages m"
        " where m.tenant_id = %s and m.instance_id = %s and m.chat_key = %s and m.provider_message_id = %s"
        " and m.direction = 'in'"
        " and not exists (select 1 from public.message_analyses a where a.message_id = m.id)",
        (tenant_id, instance_id, event.chat.key, event.provider_message_id),
    ).fetchone()
    return row["id"] if row else None
