"""Lead creation inside the ingest transaction, and the ERP customer match."""

from __future__ import annotations

from typing import Any

import psycopg

from ponte.domain.events import MessageEvent
from ponte.domain.leads import lead_origin, phone_variants


def match_customer(conn: psycopg.Connection[Any], tenant_id: str, phone_e164: str | None) -> str | None:
    """The tenant's ERP customer with this phone in any form (with or without the 9th digit, with or
    without + and country code, or typed with punctuation in ``phone_raw``); the exact E.164 wins."""
    if not phone_e164:
        return None
    variants = list(phone_variants(phone_e164))
    row = conn.execute(
        "select id::text as id from public.customers"
        " where tenant_id = %s"
        " and (phone_e164 = any(%s) or regexp_replace(coalesce(phone_raw, ''), '[^0-9]', '', 'g') = any(%s))"
        " order by (phone_e164 = %s) desc, updated_at desc limit 1",
        (tenant_id, variants, variants, phone_e164),
    ).fetchone()
    return row["id"] if row else None


def create_lead_once(
    conn: psycopg.Connection[Any],
    tenant_id: str,
    contact_id: str,
    event: MessageEvent,
    *,
    conversation_id: str,
    message_id: str,
) -> str | None:
    """The contact's lead, created by its first inbound message; None when it already has one.

    ``unique (tenant_id, contact_id)`` + ``on conflict do nothing``: a concurrent delivery
    waits for the first transaction and then inserts nothing.
    """
    exists = conn.execute(
        "select 1 from public.leads where tenant_id = %s and contact_id = %s", (tenant_id, contact_id)
    ).fetchone()
    if exists:
        return None
    customer_id = match_customer(conn, tenant_id, event.chat.phone_e164)
    origin = lead_origin(event)
    row = conn.execute(
        "insert into public.leads (tenant_id, contact_id, customer_id, returning_customer, source, source_id,"
        " source_url, first_message_id, conversation_id)"
        " values (%s, %s, %s, %s, %s, %s, %s, %s, %s)"
        " on conflict (tenant_id, contact_id) do nothing returning id::text as id",
        (
            tenant_id,
            contact_id,
            customer_id,
            customer_id is not None,
            origin.source.value,
            origin.source_id,
            origin.source_url,
            message_id,
            conversation_id,
        ),
    ).fetchone()
    return row["id"] if row else None


def clear_sla_on_reply(conn: psycopg.Connection[Any], conversation_id: str) -> None:
    """An agent's answer meets the pending SLA; the next inbound message's analysis sets a new one."""
    conn.execute(
        "update public.conversations set sla_due_at = null where id = %s and sla_due_at is not null",
        (conversation_id,),
    )
