"""Idempotent storage of canonical events: contact (by any alias), conversation, message, and the
contact's lead on its first inbound message (same transaction); acks, edits and revokes update the
message they point at; contact updates refresh names and @lid <-> phone links of known contacts."""

from __future__ import annotations

import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime, timedelta
from typing import Any

import psycopg
from psycopg.types.json import Jsonb

from ponte.adapters.postgres.contacts import find_or_create_contact, resolve_contact
from ponte.adapters.postgres.db import Database
from ponte.adapters.postgres.ingest_bulk import BulkIngest, is_text
from ponte.adapters.postgres.ingest_status import ACK_ADVANCES, STATUS_ORDER, apply_parked_status
from ponte.adapters.postgres.leads import clear_sla_on_reply, create_lead_once
from ponte.adapters.postgres.outbox_echo import confirm_by_echo
from ponte.domain.envelope import IngestEnvelope
from ponte.domain.events import AckStatus, ContactsEvent, Direction, MessageEvent, MessageKind, StatusEvent
from ponte.ports.store import IngestStore, SavedMessage

__all__ = ["ACK_ADVANCES", "PgIngestStore", "apply_parked_status", "resolve_contact"]


def guarded_identities(event: MessageEvent) -> set[str]:
    identities = {event.chat.key, *event.chat.aliases}
    if event.sender is not None:
        identities |= {event.sender.key, *event.sender.aliases}
    return identities


def ingest_allowed(
    conn: psycopg.Connection[Any], tenant_id: str, event: MessageEvent, screened: set[str] | None = None
) -> bool:
    """Defence in depth behind the intake gate, inside the storing transaction: False when the
    chat or the sender is hidden. Holds the tenant's privacy lock shared until commit, so a
    concurrent hide either sees this message committed (and purges it) or is seen here.

    ``screened``: identities this same transaction already found allowed. The lock it took then is
    still held (a hide waits for the commit), so they are still allowed: no second look."""
    identities = guarded_identities(event)
    if screened is not None and identities <= screened:
        return True
    allowed = _allowed(conn, tenant_id, identities)
    if allowed and screened is not None:
        screened |= identities
    return allowed


def _allowed(conn: psycopg.Connection[Any], tenant_id: str, identities: set[str]) -> bool:
    row = conn.execute("select private.ingest_allowed(%s, %s) as allowed", (tenant_id, sorted(identities))).fetchone()
    return bool(row and row["allowed"])


class PgIngestStore(IngestStore):
    def __init__(self, db: Database) -> None:
        self._db = db
        self._local = threading.local()  # the batch transaction of this thread, when one is open

    @contextmanager
    def batch(self, tenant_id: str, messages: Sequence[MessageEvent] = ()) -> Iterator[None]:
        """One transaction for every event stored inside the block (one tenant): a queue batch is
        one commit, not one per message. Any failure rolls the whole block back; the caller then
        stores its events one by one to isolate the bad one. The identities of ``messages`` are
        screened by the ingest guard at once (one look instead of one per message) when none is
        hidden; otherwise each message is screened on its own, as outside a batch."""
        if getattr(self._local, "conn", None) is not None:
            raise RuntimeError("ingest batches do not nest")
        with self._db.as_service(tenant_id) as conn:
            screened: set[str] = set()
            everyone = set().union(*(guarded_identities(m) for m in messages))
            if everyone and _allowed(conn, tenant_id, everyone):
                screened = everyone
            self._local.conn, self._local.tenant, self._local.screened = conn, tenant_id, screened
            try:
                yield
            finally:
                self._local.conn = self._local.tenant = self._local.screened = None

    def save_batch(self, tenant_id: str, envelopes: Sequence[IngestEnvelope]) -> list[SavedMessage]:
        """The events of one tenant as one transaction, written set-based (``BulkIngest``). When the
        batch names a hidden contact, every event takes the per-event path, each screened alone."""
        messages = [e.event for e in envelopes if isinstance(e.event, MessageEvent)]
        with self.batch(tenant_id, messages):
            if messages and not self._local.screened:
                return [self.save_event(envelope) for envelope in envelopes]
            return BulkIngest(self._local.conn, tenant_id, self.save_event).run(envelopes)

    def _screened(self) -> set[str] | None:
        """The identities the open batch's transaction found allowed (None outside a batch)."""
        screened: set[str] | None = getattr(self._local, "screened", None)
        return screened

    @contextmanager
    def _unit(self, tenant_id: str) -> Iterator[psycopg.Connection[Any]]:
        """The connection of one event: the open batch's (same tenant), else a transaction of its own."""
        conn = getattr(self._local, "conn", None)
        if conn is None:
            with self._db.as_service(tenant_id) as own:
                yield own
            return
        if self._local.tenant != tenant_id:
            raise RuntimeError("an ingest batch holds one tenant's events")
        yield conn

    def save_message(self, tenant_id: str, instance_id: str, event: MessageEvent) -> SavedMessage:
        if event.kind in (MessageKind.EDITED, MessageKind.REVOKED):
            return SavedMessage(stored=self._apply_to_target(tenant_id, instance_id, event))
        with self._unit(tenant_id) as conn:
            if not ingest_allowed(conn, tenant_id, event, self._screened()):
                _forget_pending_changes(conn, tenant_id, instance_id, event.provider_message_id)
                return SavedMessage(stored=False)
            name = event.push_name if event.direction.value == "in" else None
            contact = resolve_contact(conn, tenant_id, event.chat, name)
            contact_id, chat_key = contact.id, contact.key
            # last_inbound_at: the inbox's unread filter (greatest() skips the null of an outbound one)
            conversation = conn.execute(
                "insert into public.conversations"
                " (tenant_id, instance_id, contact_id, chat_key, last_message_at, last_inbound_at)"
                " values (%s, %s, %s, %s, %s, %s)"
                " on conflict (tenant_id, instance_id, chat_key) do update"
                " set last_message_at = greatest(public.conversations.last_message_at, excluded.last_message_at),"
                " last_inbound_at = greatest(public.conversations.last_inbound_at, excluded.last_inbound_at)"
                " returning id::text as id, (xmax = 0) as created",
                (
                    tenant_id,
                    instance_id,
                    contact_id,
                    chat_key,
                    event.occurred_at,
                    event.occurred_at if event.direction is Direction.INBOUND else None,
                ),
            ).fetchone()
            assert conversation is not None
            inserted = conn.execute(
                "insert into public.messages (tenant_id, instance_id, conversation_id, contact_id, chat_key,"
                " provider_message_id, direction, kind, body, media, quoted_message_id, occurred_at,"
                " target_message_id, status, status_at)"
                " values (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)"
                " on conflict (tenant_id, instance_id, chat_key, provider_message_id, direction) do update"
                f" set status = excluded.status, status_at = excluded.status_at where {ACK_ADVANCES}"
                " returning id, (xmax = 0) as inserted",
                (
                    tenant_id,
                    instance_id,
                    conversation["id"],
                    contact_id,
                    chat_key,
                    event.provider_message_id,
                    event.direction.value,
                    event.kind.value,
                    event.text,
                    Jsonb(event.media.model_dump(exclude_none=True)) if event.media else None,
                    event.quoted_message_id,
                    event.occurred_at,
                    event.target_message_id,
                    event.status.value if event.status else None,
                    event.occurred_at if event.status else None,
                ),
            ).fetchone()
            inbound = event.direction is Direction.INBOUND
            thread = {"conversation_id": conversation["id"], "conversation_created": conversation["created"]}
            if inserted is not None and not inserted["inserted"]:  # known: only its ack moved on
                return SavedMessage(stored=False, message_id=str(inserted["id"]), **thread)
            if inserted is None:
                pending = (
                    _unanalysed(conn, tenant_id, instance_id, chat_key, event) if inbound and is_text(event) else None
                )
                return SavedMessage(stored=False, message_id=pending, needs_analysis=pending is not None, **thread)
            message_id = str(inserted["id"])
            _apply_pending_changes(conn, tenant_id, instance_id, message_id, event)
            lead_id = None
            if inbound:
                lead_id = create_lead_once(
                    conn, tenant_id, contact_id, event, conversation_id=conversation["id"], message_id=message_id
                )
            else:
                clear_sla_on_reply(conn, conversation["id"])
                # the echo of an agent's send whose answer was lost: that send is confirmed now
                confirm_by_echo(conn, tenant_id, instance_id, chat_key, message_id=message_id, event=event)
            return SavedMessage(
                stored=True,
                message_id=message_id,
                lead_id=lead_id,
                needs_analysis=inbound and is_text(event),
                inbound=inbound,
                kind=event.kind.value,
                occurred_at=event.occurred_at,
                **thread,
            )

    def _apply_to_target(self, tenant_id: str, instance_id: str, event: MessageEvent) -> bool:
        """Edits and revokes change the message they point at, found by its id on the instance --
        never by chat: Evolution reports edits with the instance's own number as the chat. One that
        overtakes its message waits for it (``_apply_pending_changes``)."""
        target = event.target_message_id
        if target is None:
            return False
        with self._unit(tenant_id) as conn:
            if event.kind is MessageKind.EDITED:
                cursor = conn.execute(
                    "update public.messages set body = %s, edited_at = %s"
                    " where tenant_id = %s and instance_id = %s and provider_message_id = %s"
                    " and (edited_at is null or edited_at < %s) and kind not in ('edited', 'revoked')",
                    (event.text, event.occurred_at, tenant_id, instance_id, target, event.occurred_at),
                )
            else:
                cursor = conn.execute(
                    "update public.messages set status = 'deleted', status_at = %s"
                    " where tenant_id = %s and instance_id = %s and provider_message_id = %s"
                    " and status is distinct from 'deleted'",
                    (event.occurred_at, tenant_id, instance_id, target),
                )
            if cursor.rowcount > 0:
                return True
            if not _is_known(conn, tenant_id, instance_id, target) and ingest_allowed(
                conn, tenant_id, event, self._screened()
            ):
                _park_change(conn, tenant_id, instance_id, event, target)
            return False

    def save_status(self, tenant_id: str, instance_id: str, event: StatusEvent) -> bool:
        direction = None if event.from_me is None else ("out" if event.from_me else "in")
        with self._unit(tenant_id) as conn:
            if self._advance_status(conn, tenant_id, instance_id, event, direction):
                return True
            if not _is_known(conn, tenant_id, instance_id, event.provider_message_id):
                # the ack overtook its message: kept until the message is stored
                _park_status(
                    conn,
                    tenant_id,
                    instance_id,
                    event.provider_message_id,
                    direction=direction,
                    status=event.status,
                    at=event.occurred_at,
                    error_code=event.error_code,
                )
                return False
            # known now: it may have been committed (by the proxy's send) since the update looked
            return self._advance_status(conn, tenant_id, instance_id, event, direction)

    def _advance_status(
        self, conn: psycopg.Connection[Any], tenant_id: str, instance_id: str, event: StatusEvent, direction: str | None
    ) -> bool:
        cursor = conn.execute(
            "update public.messages set status = %(new)s, status_at = coalesce(%(at)s, now()),"
            " status_error = %(error)s"
            " where tenant_id = %(tenant)s and instance_id = %(instance)s and provider_message_id = %(id)s"
            " and (%(direction)s::text is null or direction = %(direction)s::text)"
            " and status is distinct from 'deleted'"
            # a failure is final (a 'delivered' arriving after 'failed' is older news: Cloud API
            # statuses come out of order); only a deletion follows it
            " and (%(new)s = 'deleted' or status is distinct from 'error')"
            " and (%(new)s in ('deleted', 'error')"
            "  or coalesce(array_position(%(order)s::text[], status), 0)"
            "   < array_position(%(order)s::text[], %(new)s))",
            {
                "new": event.status.value,
                "error": event.error_code if event.status is AckStatus.ERROR else None,
                "at": event.occurred_at,
                "tenant": tenant_id,
                "instance": instance_id,
                "id": event.provider_message_id,
                "direction": direction,
                "order": STATUS_ORDER,
            },
        )
        return cursor.rowcount > 0

    def expire_pending(self, max_age: timedelta) -> dict[str, int]:
        with self._db.as_service(None) as conn:
            row = conn.execute("select private.expire_pending_changes(%s) as expired", (max_age,)).fetchone()
        assert row is not None
        return {table: int(count) for table, count in row["expired"].items()}

    def save_contacts(self, tenant_id: str, event: ContactsEvent) -> int:
        """Names, pictures and @lid <-> phone links for contacts Ponte already has; an address-book
        sync never creates contacts for people who have not written."""
        updated = 0
        with self._unit(tenant_id) as conn:
            for update in event.contacts:
                found = find_or_create_contact(
                    conn, tenant_id, update.identity, update.push_name, update.picture_url, create=False
                )
                updated += found is not None
        return updated


def _is_known(conn: psycopg.Connection[Any], tenant_id: str, instance_id: str, provider_message_id: str) -> bool:
    row = conn.execute(
        "select 1 from public.messages where tenant_id = %s and instance_id = %s and provider_message_id = %s limit 1",
        (tenant_id, instance_id, provider_message_id),
    ).fetchone()
    return row is not None


def _park_status(
    conn: psycopg.Connection[Any],
    tenant_id: str,
    instance_id: str,
    provider_message_id: str,
    *,
    direction: str | None,
    status: AckStatus,
    at: datetime | None,
    error_code: str | None = None,
) -> None:
    conn.execute(
        "insert into private.pending_message_status"
        " (tenant_id, instance_id, provider_message_id, direction, status, status_at, error_code)"
        " values (%s, %s, %s, %s, %s, %s, %s) on conflict do nothing",
        (tenant_id, instance_id, provider_message_id, direction, status.value, at, error_code),
    )


def _park_change(
    conn: psycopg.Connection[Any], tenant_id: str, instance_id: str, event: MessageEvent, target: str
) -> None:
    """An edit or revoke whose message is not stored yet: a revoke waits as a 'deleted' status, an
    edit with its text and its chat's identities (the purge of a hidden contact finds it by them);
    of two early edits the later one is kept."""
    if event.kind is MessageKind.REVOKED:
        _park_status(
            conn, tenant_id, instance_id, target, direction=None, status=AckStatus.DELETED, at=event.occurred_at
        )
        return
    identities = sorted({event.chat.key, *event.chat.aliases})
    conn.execute(
        "insert into private.pending_message_edits"
        " (tenant_id, instance_id, provider_message_id, body, edited_at, chat_identities)"
        " values (%s, %s, %s, %s, %s, %s)"
        " on conflict (tenant_id, instance_id, provider_message_id) do update"
        " set body = excluded.body, edited_at = excluded.edited_at, chat_identities = excluded.chat_identities"
        " where private.pending_message_edits.edited_at < excluded.edited_at",
        (tenant_id, instance_id, target, event.text, event.occurred_at, identities),
    )


def _forget_pending_changes(
    conn: psycopg.Connection[Any], tenant_id: str, instance_id: str, provider_message_id: str
) -> None:
    """A message refused at ingest (hidden contact): what waited for it goes too."""
    for table in ("pending_message_status", "pending_message_edits"):
        conn.execute(
            f"delete from private.{table} where tenant_id = %s and instance_id = %s and provider_message_id = %s",
            (tenant_id, instance_id, provider_message_id),
        )


def _apply_pending_changes(
    conn: psycopg.Connection[Any], tenant_id: str, instance_id: str, message_id: str, event: MessageEvent
) -> None:
    """Acks, revokes and edits that arrived before this message."""
    _apply_pending_status(conn, tenant_id, instance_id, message_id, event)
    if event.kind in (MessageKind.EDITED, MessageKind.REVOKED):
        return
    edit = conn.execute(
        "delete from private.pending_message_edits"
        " where tenant_id = %s and instance_id = %s and provider_message_id = %s returning body, edited_at",
        (tenant_id, instance_id, event.provider_message_id),
    ).fetchone()
    if edit is not None:
        conn.execute(
            "update public.messages set body = %s, edited_at = %s where id = %s",
            (edit["body"], edit["edited_at"], message_id),
        )


def _apply_pending_status(
    conn: psycopg.Connection[Any], tenant_id: str, instance_id: str, message_id: str, event: MessageEvent
) -> None:
    """Acks that arrived before this message: the furthest one applies (a deletion above all)."""
    apply_parked_status(
        conn,
        tenant_id,
        instance_id,
        message_id,
        provider_message_id=event.provider_message_id,
        direction=event.direction.value,
        current=event.status.value if event.status else None,
    )


def _unanalysed(
    conn: psycopg.Connection[Any], tenant_id: str, instance_id: str, chat_key: str, event: MessageEvent
) -> str | None:
    """The id of this already stored message when it has no analysis yet: a redelivery after the
    analyze job could not be enqueued enqueues it again (the analyze handler is idempotent)."""
    row = conn.execute(
        "select m.id::text as id from public.messages m"
        " where m.tenant_id = %s and m.instance_id = %s and m.chat_key = %s and m.provider_message_id = %s"
        " and m.direction = 'in'"
        " and not exists (select 1 from public.message_analyses a where a.message_id = m.id)",
        (tenant_id, instance_id, chat_key, event.provider_message_id),
    ).fetchone()
    return row["id"] if row else None
