"""One person is one contact whatever form arrives: resolution by any alias, @lid <-> phone links,
and the merge of two contacts that a payload proves to be the same person -- with their
conversations, one per instance."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import psycopg
from psycopg import sql

from ponte.domain.events import Identity


@dataclass(frozen=True)
class ResolvedContact:
    id: str
    key: str  # the contact's identity_key: the chat key of its conversations and messages


def resolve_contact(
    conn: psycopg.Connection[Any],
    tenant_id: str,
    identity: Identity,
    name: str | None,
    picture_url: str | None = None,
) -> ResolvedContact:
    """The contact for ``identity``, created when new (see ``find_or_create_contact``)."""
    contact = find_or_create_contact(conn, tenant_id, identity, name, picture_url, create=True)
    assert contact is not None
    return contact


def find_or_create_contact(
    conn: psycopg.Connection[Any],
    tenant_id: str,
    identity: Identity,
    name: str | None,
    picture_url: str | None = None,
    *,
    create: bool,
) -> ResolvedContact | None:
    """The contact for ``identity``, found by any alias, created when new; every alias is recorded.

    When the identity links forms that were stored apart (an @lid contact, then a payload with the
    @lid and its phone), the contacts are merged into one: the one with the phone survives, or the
    oldest. A contact known only by its @lid takes the phone as its key once a payload links them.
    Contacts with two different phones are never merged.
    """
    aliases = sorted({identity.key, *identity.aliases})
    rows = conn.execute(
        "select c.id::text as id, c.identity_key as key, c.phone_e164 as phone from public.contacts c"
        " where c.tenant_id = %s and c.id in"
        " (select a.contact_id from public.contact_aliases a where a.tenant_id = %s and a.alias = any(%s))"
        " order by (c.phone_e164 = %s) desc nulls last, (c.phone_e164 is not null) desc, c.created_at, c.id"
        " for update of c",
        (tenant_id, tenant_id, aliases, identity.phone_e164),
    ).fetchall()
    if not rows and not create:
        return None
    if not rows:
        row = conn.execute(
            "insert into public.contacts (tenant_id, identity_key, phone_e164, display_name, picture_url)"
            " values (%s, %s, %s, %s, %s)"
            " on conflict (tenant_id, identity_key) do update"
            " set display_name = coalesce(excluded.display_name, public.contacts.display_name),"
            " picture_url = coalesce(excluded.picture_url, public.contacts.picture_url), updated_at = now()"
            " returning id::text as id, identity_key as key",
            (tenant_id, identity.key, identity.phone_e164, name, picture_url),
        ).fetchone()
        assert row is not None
        contact = ResolvedContact(row["id"], row["key"])
    else:
        survivor = rows[0]
        merged = False
        for other in rows[1:]:
            if other["phone"] is None or other["phone"] == survivor["phone"]:
                _merge(conn, survivor["id"], other["id"])
                merged = True
        contact = ResolvedContact(survivor["id"], survivor["key"])
        if survivor["phone"] is None and identity.phone_e164:
            contact = _link_phone(conn, contact, identity.phone_e164)
            merged = True
        if merged:
            _unify_conversations(conn, tenant_id, contact)
        if name or picture_url:
            conn.execute(
                "update public.contacts set display_name = coalesce(%s, display_name),"
                " picture_url = coalesce(%s, picture_url), updated_at = now()"
                " where id = %s and (display_name is distinct from coalesce(%s, display_name)"
                " or picture_url is distinct from coalesce(%s, picture_url))",
                (name, picture_url, contact.id, name, picture_url),
            )
    conn.execute(
        "insert into public.contact_aliases (tenant_id, alias, contact_id)"
        " select %s, a, %s from unnest(%s::text[]) a on conflict do nothing",
        (tenant_id, contact.id, aliases),
    )
    return contact


def _link_phone(conn: psycopg.Connection[Any], contact: ResolvedContact, phone: str) -> ResolvedContact:
    """An @lid-only contact learns its phone: the phone becomes its key (its conversations and
    messages are re-keyed by ``_unify_conversations``, so that later deliveries, keyed by phone,
    still dedupe against them)."""
    conn.execute(
        "update public.contacts set identity_key = %s, phone_e164 = %s, updated_at = now() where id = %s",
        (phone, phone, contact.id),
    )
    return ResolvedContact(contact.id, phone)


def _merge(conn: psycopg.Connection[Any], survivor: str, duplicate: str) -> None:
    """Everything of ``duplicate`` now belongs to ``survivor`` (its conversations are then folded
    into the survivor's by ``_unify_conversations``); its lead moves unless the survivor has one."""
    for table in ("contact_aliases", "conversations", "messages"):
        conn.execute(f"update public.{table} set contact_id = %s where contact_id = %s", (survivor, duplicate))
    conn.execute(
        "update public.leads set contact_id = %s where contact_id = %s"
        " and not exists (select 1 from public.leads l where l.contact_id = %s)",
        (survivor, duplicate, survivor),
    )
    conn.execute("delete from public.contacts where id = %s", (duplicate,))


def _unify_conversations(conn: psycopg.Connection[Any], tenant_id: str, contact: ResolvedContact) -> None:
    """One person, one conversation per instance, keyed like the contact: after a merge or a phone
    link, the contact's other threads are folded into the one that carries its key (else the oldest)
    -- their messages (a copy the kept thread already has goes), analyses, suggestions, sends and
    lead move with them, and the kept thread takes the most urgent priority and SLA of the two."""
    threads = conn.execute(
        "select id::text as id, instance_id, chat_key from public.conversations"
        " where tenant_id = %s and contact_id = %s"
        " order by instance_id, (chat_key = %s) desc, created_at, id for update",
        (tenant_id, contact.id, contact.key),
    ).fetchall()
    kept: dict[Any, str] = {}
    for thread in threads:
        keep = kept.get(thread["instance_id"])
        if keep is None:
            kept[thread["instance_id"]] = thread["id"]
            if thread["chat_key"] != contact.key:
                conn.execute("update public.conversations set chat_key = %s where id = %s", (contact.key, thread["id"]))
                conn.execute(
                    "update public.messages set chat_key = %s where conversation_id = %s", (contact.key, thread["id"])
                )
            continue
        _fold_conversation(conn, keep, thread["id"], contact.key)


def _fold_conversation(conn: psycopg.Connection[Any], keep: str, fold: str, chat_key: str) -> None:
    conn.execute(
        "delete from public.messages f using public.messages k"
        " where f.conversation_id = %s and k.conversation_id = %s"
        " and k.provider_message_id = f.provider_message_id and k.direction = f.direction",
        (fold, keep),
    )
    conn.execute(
        "update public.messages set conversation_id = %s, chat_key = %s where conversation_id = %s",
        (keep, chat_key, fold),
    )
    # every other table that points at a conversation, as the catalog lists them
    references = conn.execute(
        "select c.conrelid::regclass::text as rel, a.attname as col from pg_constraint c"
        " join pg_attribute a on a.attrelid = c.conrelid and a.attnum = c.conkey[1]"
        " where c.contype = 'f' and c.confrelid = 'public.conversations'::regclass"
        " and c.conrelid <> 'public.messages'::regclass order by 1, 2"
    ).fetchall()
    for ref in references:
        conn.execute(
            sql.SQL("update {} set {} = %s where {} = %s").format(
                sql.SQL(ref["rel"]), sql.Identifier(ref["col"]), sql.Identifier(ref["col"])
            ),
            (keep, fold),
        )
    conn.execute(
        "update public.conversations k set"
        " last_message_at = greatest(k.last_message_at, f.last_message_at),"
        " last_inbound_at = greatest(k.last_inbound_at, f.last_inbound_at),"
        " priority = (%(order)s::text[])[greatest(array_position(%(order)s::text[], k.priority),"
        "   array_position(%(order)s::text[], f.priority))],"
        " sla_due_at = least(k.sla_due_at, f.sla_due_at),"
        " assigned_to = coalesce(k.assigned_to, f.assigned_to),"
        " status = case when 'open' in (k.status, f.status) then 'open' else 'closed' end"
        " from public.conversations f where k.id = %(keep)s and f.id = %(fold)s",
        {"order": ["low", "medium", "high", "critical"], "keep": keep, "fold": fold},
    )
    conn.execute("select private.announce_conversation_merged(%s, %s)", (fold, keep))  # before its deletion's
    conn.execute("delete from public.conversations where id = %s", (fold,))
