"""One person is one contact whatever form arrives: resolution by any alias, @lid <-> phone links,
and the merge of two contacts that a payload proves to be the same person."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import psycopg

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
        for other in rows[1:]:
            if other["phone"] is None or other["phone"] == survivor["phone"]:
                _merge(conn, survivor["id"], other["id"])
        contact = ResolvedContact(survivor["id"], survivor["key"])
        if survivor["phone"] is None and identity.phone_e164:
            contact = _link_phone(conn, tenant_id, contact, identity.phone_e164)
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


def _link_phone(conn: psycopg.Connection[Any], tenant_id: str, contact: ResolvedContact, phone: str) -> ResolvedContact:
    """An @lid-only contact learns its phone: the phone becomes its key, and its conversations and
    messages are re-keyed so that later deliveries (keyed by phone) still dedupe against them."""
    conn.execute(
        "update public.contacts set identity_key = %s, phone_e164 = %s, updated_at = now() where id = %s",
        (phone, phone, contact.id),
    )
    conn.execute(
        "update public.conversations set chat_key = %s where tenant_id = %s and contact_id = %s and chat_key = %s",
        (phone, tenant_id, contact.id, contact.key),
    )
    conn.execute(
        "update public.messages set chat_key = %s where tenant_id = %s and contact_id = %s and chat_key = %s",
        (phone, tenant_id, contact.id, contact.key),
    )
    return ResolvedContact(contact.id, phone)


def _merge(conn: psycopg.Connection[Any], survivor: str, duplicate: str) -> None:
    """Everything of ``duplicate`` now belongs to ``survivor``; its conversations keep their chat
    key (a second thread of the same person), its lead moves unless the survivor has one."""
    for table in ("contact_aliases", "conversations", "messages"):
        conn.execute(f"update public.{table} set contact_id = %s where contact_id = %s", (survivor, duplicate))
    conn.execute(
        "update public.leads set contact_id = %s where contact_id = %s"
        " and not exists (select 1 from public.leads l where l.contact_id = %s)",
        (survivor, duplicate, survivor),
    )
    conn.execute("delete from public.contacts where id = %s", (duplicate,))
