"""How acks move a message's status: forward only; an error or a delete always applies, and
nothing follows a delete. Shared by the ingest paths and the proxy's send."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import psycopg

from ponte.domain.events import AckStatus

STATUS_ORDER = [
    AckStatus.PENDING.value,
    AckStatus.SENT.value,
    AckStatus.DELIVERED.value,
    AckStatus.READ.value,
    AckStatus.PLAYED.value,
]
# ``insert into public.messages ... on conflict do update ... where`` this: a message stored again
# (the gateway's echo of a send, an echo at a later ack) moves its ack forward, never back,
# and never out of an error or a deletion
ACK_ADVANCES = (
    "excluded.status is not null and public.messages.direction = 'out'"
    " and public.messages.status is distinct from 'deleted' and public.messages.status is distinct from 'error'"
    " and coalesce(array_position(array['" + "','".join(STATUS_ORDER) + "'], public.messages.status), 0)"
    " < coalesce(array_position(array['" + "','".join(STATUS_ORDER) + "'], excluded.status), 0)"
)
# parked acks compete by this rank: a failure outranks every progress ack (it is final, see the
# ingest store's status update), a deletion all
_PARKED_RANK = {status: i for i, status in enumerate([*STATUS_ORDER, AckStatus.ERROR.value, AckStatus.DELETED.value])}


def best_parked_status(parked: Sequence[Mapping[str, Any]], current: str | None) -> Mapping[str, Any] | None:
    """Of the acks parked for a message just stored with status ``current``, the one to apply
    (the furthest), or None when none goes beyond ``current``."""
    if not parked:
        return None
    best = max(parked, key=lambda row: _PARKED_RANK.get(row["status"], -1))
    if current is not None and _PARKED_RANK.get(best["status"], -1) <= _PARKED_RANK.get(current, -1):
        return None
    return best


def apply_parked_status(
    conn: psycopg.Connection[Any],
    tenant_id: str,
    instance_id: str,
    message_id: str,
    *,
    provider_message_id: str,
    direction: str,
    current: str | None,
) -> None:
    """The acks parked for a message just stored (``current``: the status it was stored with) --
    by ingest, or by the proxy's send when the gateway's first ack overtook its answer."""
    parked = conn.execute(
        "delete from private.pending_message_status"
        " where tenant_id = %s and instance_id = %s and provider_message_id = %s"
        " and (direction is null or direction = %s) returning status, status_at, error_code",
        (tenant_id, instance_id, provider_message_id, direction),
    ).fetchall()
    best = best_parked_status(parked, current)
    if best is not None:
        set_parked_status(conn, message_id, best)


def set_parked_status(conn: psycopg.Connection[Any], message_id: str, best: Mapping[str, Any]) -> None:
    """A stored message takes the parked ack ``best`` (with its error code when it is a failure)."""
    conn.execute(
        "update public.messages set status = %s, status_at = coalesce(%s, now()), status_error = %s where id = %s",
        (best["status"], best["status_at"], best["error_code"] if best["status"] == "error" else None, message_id),
    )
