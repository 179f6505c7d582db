"""An agent's send and the gateway's echo of it are one message: the outbox row of a send whose
answer was lost (timeout, 5xx) is matched with the echo webhook -- same instance and chat, same
text, not before the row was written (with some clock slack), not already linked to another row."""

from __future__ import annotations

from typing import Any

import psycopg

from ponte.domain.events import MessageEvent

# How far back an echo may predate the outbox row's creation (clock skew between gateway and us).
ECHO_SLACK = "2 minutes"


def confirm_by_echo(
    conn: psycopg.Connection[Any],
    tenant_id: str,
    instance_id: str,
    chat_key: str,
    *,
    message_id: str,
    event: MessageEvent,
) -> bool:
    """An outbound message (``event``, stored as ``message_id``) was just stored from a webhook:
    the oldest unconfirmed (or pending) send it echoes is marked sent."""
    if not event.text:
        return False
    row = conn.execute(
        "update public.outbound_messages o set status = 'sent', provider_message_id = %(provider_id)s,"
        " message_id = %(message_id)s, error_code = null, updated_at = now()"
        " where o.id = (select p.id from public.outbound_messages p"
        "   where p.tenant_id = %(tenant)s and p.instance_id = %(instance)s and p.chat_key = %(chat)s"
        "   and p.status in ('pending', 'unconfirmed') and p.provider_message_id is null"
        f"  and btrim(p.body) = btrim(%(body)s) and %(at)s >= p.created_at - interval '{ECHO_SLACK}'"
        "   and not exists (select 1 from public.outbound_messages l where l.tenant_id = p.tenant_id"
        "     and l.chat_key = p.chat_key and l.provider_message_id = %(provider_id)s)"
        "   order by p.created_at limit 1 for update skip locked)"
        " returning o.id",
        {
            "provider_id": event.provider_message_id,
            "message_id": message_id,
            "tenant": tenant_id,
            "instance": instance_id,
            "chat": chat_key,
            "body": event.text,
            "at": event.occurred_at,
        },
    ).fetchone()
    return row is not None
