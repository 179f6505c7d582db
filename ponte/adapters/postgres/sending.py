"""The send use case's storage, under the caller's RLS (``Database.as_user``)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

import psycopg
from psycopg.types.json import Jsonb

from ponte.adapters.postgres.contacts import resolve_contact
from ponte.adapters.postgres.db import Database, retry_transaction
from ponte.adapters.postgres.feedback import PgFeedbackStore
from ponte.adapters.postgres.ingest_status import ACK_ADVANCES, apply_parked_status
from ponte.adapters.postgres.outbox_echo import ECHO_SLACK
from ponte.domain.events import AckStatus
from ponte.domain.feedback import SuggestionOutcome
from ponte.domain.gateway import SentMessage
from ponte.domain.identity import identity_from_jid
from ponte.domain.outbox import OutboxRecord, OutboxStatus
from ponte.ports.gateway import GatewayTarget
from ponte.ports.sending import Claims, OutboxDraft, SendStore, SendTarget, SuggestionNotFound, Suggestions

_INSTANCE_COLUMNS = (
    "i.id::text as instance_id, i.tenant_id::text as tenant_id, i.provider, i.gateway_instance,"
    " i.gateway_base_url as base_url, i.credentials_secret_name"
)
_OUTBOX_COLUMNS = (
    "id::text, tenant_id::text, instance_id::text, conversation_id::text, chat_key, recipient, idempotency_key,"
    " request_hash, body, suggestion_id::text, suggestion_outcome, status, attempts, provider_message_id,"
    " message_id::text, error_code, created_at, updated_at, origin, automatic_kind, kind, payload"
)
# what an outbound message of each outbox kind is stored as (public.messages.kind)
_MESSAGE_KIND = {"template": "text", "interactive": "text"}


def gateway_target(row: dict[str, Any]) -> GatewayTarget:
    return GatewayTarget.model_validate(
        {k: row[k] for k in ("instance_id", "tenant_id", "provider", "gateway_instance", "base_url")}
        | {"credentials_secret_name": row["credentials_secret_name"]}
    )


def recipient_of(chat_key: str, phone_e164: str | None) -> str:
    """The gateway takes digits for a phone and the JID otherwise (an @lid chat)."""
    if phone_e164:
        return phone_e164.lstrip("+")
    return chat_key.lstrip("+") if chat_key.startswith("+") else chat_key


def phone_aliases(phone_e164: str) -> list[str]:
    identity = identity_from_jid(f"{phone_e164.lstrip('+')}@s.whatsapp.net")
    return sorted({phone_e164, identity.key, *identity.aliases})


class PgSendStore(SendStore):
    def __init__(self, db: Database) -> None:
        self._db = db

    def _tx(self, claims: Claims) -> Any:
        """The caller's transaction: an agent's under their RLS, the automation's as the service
        (``{"role": "service_role", "tenant_id": ...}``: automatic messages)."""
        if claims.get("role") == "service_role":
            return self._db.as_service(str(claims.get("tenant_id") or "") or None)
        return self._db.as_user(claims)

    def conversation_target(self, claims: Claims, conversation_id: str) -> SendTarget | None:
        with self._tx(claims) as conn:
            row = conn.execute(
                f"select c.id::text as conversation_id, c.chat_key, ct.phone_e164, {_INSTANCE_COLUMNS}"
                " from public.conversations c"
                " join public.contacts ct on ct.id = c.contact_id"
                " join public.whatsapp_instances i on i.id = c.instance_id"
                " where c.id = %s",
                (conversation_id,),
            ).fetchone()
        if row is None:
            return None
        return SendTarget(
            gateway=gateway_target(row),
            conversation_id=row["conversation_id"],
            chat_key=row["chat_key"],
            recipient=recipient_of(row["chat_key"], row["phone_e164"]),
            phone_e164=row["phone_e164"],
        )

    def phone_target(self, claims: Claims, instance_id: str | None, phone_e164: str) -> SendTarget | None:
        with self._tx(claims) as conn:
            instances = conn.execute(
                f"select {_INSTANCE_COLUMNS} from public.whatsapp_instances i"
                " where (%s::uuid is null or i.id = %s::uuid) order by i.created_at limit 2",
                (instance_id, instance_id),
            ).fetchall()
            if len(instances) != 1:
                return None  # none visible, or several and the caller did not say which
            instance = instances[0]
            row = find_conversation(conn, instance["tenant_id"], instance["instance_id"], phone_e164)
        return SendTarget(
            gateway=gateway_target(instance),
            conversation_id=row["id"] if row else None,
            chat_key=row["chat_key"] if row else phone_e164,
            recipient=phone_e164.lstrip("+"),
            phone_e164=phone_e164,
        )

    def begin(self, claims: Claims, draft: OutboxDraft) -> tuple[OutboxRecord, bool]:
        t = draft.target
        with self._tx(claims) as conn:
            row = conn.execute(
                "insert into public.outbound_messages (tenant_id, instance_id, conversation_id, chat_key, recipient,"
                " idempotency_key, request_hash, body, suggestion_id, suggestion_outcome, origin, automatic_kind,"
                " kind, payload, created_by)"
                " values (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, (select auth.uid()))"
                f" on conflict (tenant_id, idempotency_key) do nothing returning {_OUTBOX_COLUMNS}",
                (
                    t.gateway.tenant_id,
                    t.gateway.instance_id,
                    t.conversation_id,
                    t.chat_key,
                    t.recipient,
                    draft.idempotency_key,
                    draft.request_hash,
                    draft.body,
                    draft.suggestion_id,
                    draft.suggestion_outcome.value if draft.suggestion_outcome else None,
                    draft.origin,
                    draft.automatic_kind,
                    draft.content.kind.value if draft.content else "text",
                    Jsonb(draft.content.payload()) if draft.content and draft.content.payload() else None,
                ),
            ).fetchone()
            if row is not None:
                return OutboxRecord.model_validate(row), True
            row = conn.execute(
                f"select {_OUTBOX_COLUMNS} from public.outbound_messages where tenant_id = %s and idempotency_key = %s",
                (t.gateway.tenant_id, draft.idempotency_key),
            ).fetchone()
        assert row is not None
        return OutboxRecord.model_validate(row), False

    def mark(
        self,
        claims: Claims,
        outbox_id: str,
        status: OutboxStatus,
        *,
        error_code: str | None = None,
        attempt: bool = False,
    ) -> OutboxRecord:
        with self._tx(claims) as conn:
            row = conn.execute(
                "update public.outbound_messages set status = %s, error_code = coalesce(%s, error_code),"
                " attempts = attempts + %s, updated_at = now()"
                f" where id = %s and status <> 'sent' returning {_OUTBOX_COLUMNS}",
                (status.value, error_code, 1 if attempt else 0, outbox_id),
            ).fetchone()
            if row is None:  # sent meanwhile (a concurrent retry confirmed it): report that
                row = conn.execute(
                    f"select {_OUTBOX_COLUMNS} from public.outbound_messages where id = %s", (outbox_id,)
                ).fetchone()
        assert row is not None
        return OutboxRecord.model_validate(row)

    def complete(self, claims: Claims, record: OutboxRecord, sent: SentMessage, occurred_at: datetime) -> OutboxRecord:
        # races the ingest of the gateway's echo (same contact, conversation and message rows)
        done = retry_transaction(lambda: self._complete(claims, record, sent, occurred_at))
        if done.message_id and done.provider_message_id:
            # an ack that overtook the gateway's answer waited for the message: it applies now
            # (acks arriving from now on find the message)
            with self._db.as_service(done.tenant_id) as conn:
                row = conn.execute("select status from public.messages where id = %s", (done.message_id,)).fetchone()
                if row is not None:
                    apply_parked_status(
                        conn,
                        done.tenant_id,
                        done.instance_id,
                        done.message_id,
                        provider_message_id=done.provider_message_id,
                        direction="out",
                        current=row["status"],
                    )
        return done

    def _complete(self, claims: Claims, record: OutboxRecord, sent: SentMessage, occurred_at: datetime) -> OutboxRecord:
        with self._tx(claims) as conn:
            conversation_id, contact_id, chat_key = self._conversation(conn, record, occurred_at)
            message = conn.execute(
                "insert into public.messages (tenant_id, instance_id, conversation_id, contact_id, chat_key,"
                " provider_message_id, direction, kind, body, status, occurred_at)"
                " values (%s, %s, %s, %s, %s, %s, 'out', %s, %s, %s, %s)"
                " on conflict (tenant_id, instance_id, chat_key, provider_message_id, direction) do update"
                f" set status = excluded.status, status_at = now() where {ACK_ADVANCES}"
                " returning id::text as id",
                (
                    record.tenant_id,
                    record.instance_id,
                    conversation_id,
                    contact_id,
                    chat_key,
                    sent.provider_message_id,
                    _MESSAGE_KIND.get(record.kind.value, record.kind.value),
                    record.body,
                    (sent.status or AckStatus.PENDING).value,
                    occurred_at,
                ),
            ).fetchone()
            if message is None:  # the echo webhook stored it first (with an ack as far or further)
                message = conn.execute(
                    "select id::text as id from public.messages where tenant_id = %s and instance_id = %s"
                    " and chat_key = %s and provider_message_id = %s and direction = 'out'",
                    (record.tenant_id, record.instance_id, chat_key, sent.provider_message_id),
                ).fetchone()
            assert message is not None
            row = conn.execute(
                "update public.outbound_messages set status = 'sent', provider_message_id = %s, message_id = %s,"
                " conversation_id = %s, chat_key = %s, error_code = null, updated_at = now()"
                f" where id = %s returning {_OUTBOX_COLUMNS}",
                (sent.provider_message_id, message["id"], conversation_id, chat_key, record.id),
            ).fetchone()
        assert row is not None
        return OutboxRecord.model_validate(row)

    def _conversation(self, conn: psycopg.Connection[Any], record: OutboxRecord, at: datetime) -> tuple[str, str, str]:
        """(conversation id, contact id, chat key); the chat key is the contact's identity key."""
        if record.conversation_id is None:
            # a virtual conversation becomes real with its first sent message
            identity = identity_from_jid(f"{record.recipient}@s.whatsapp.net")
            contact = resolve_contact(conn, record.tenant_id, identity, None)
            row = conn.execute(
                "insert into public.conversations (tenant_id, instance_id, contact_id, chat_key, last_message_at)"
                " values (%s, %s, %s, %s, %s) on conflict (tenant_id, instance_id, chat_key) do update"
                " set last_message_at = greatest(public.conversations.last_message_at, excluded.last_message_at)"
                " returning id::text as id, contact_id::text as contact_id, chat_key",
                (record.tenant_id, record.instance_id, contact.id, contact.key, at),
            ).fetchone()
        else:
            row = conn.execute(
                "update public.conversations set last_message_at = greatest(last_message_at, %s) where id = %s"
                " returning id::text as id, contact_id::text as contact_id, chat_key",
                (at, record.conversation_id),
            ).fetchone()
        assert row is not None
        return row["id"], row["contact_id"], row["chat_key"]

    def find_echo(self, claims: Claims, record: OutboxRecord) -> str | None:
        with self._tx(claims) as conn:
            row = conn.execute(
                "select m.provider_message_id from public.messages m"
                " where m.tenant_id = %s and m.instance_id = %s and m.chat_key = %s and m.direction = 'out'"
                f" and btrim(m.body) = btrim(%s) and m.occurred_at >= %s - interval '{ECHO_SLACK}'"
                " and not exists (select 1 from public.outbound_messages o where o.tenant_id = m.tenant_id"
                "   and o.chat_key = m.chat_key and o.provider_message_id = m.provider_message_id and o.id <> %s)"
                " order by m.occurred_at limit 1",
                (record.tenant_id, record.instance_id, record.chat_key, record.body, record.created_at, record.id),
            ).fetchone()
        return row["provider_message_id"] if row else None

    def linked_provider_ids(self, claims: Claims, record: OutboxRecord) -> set[str]:
        with self._tx(claims) as conn:
            rows = conn.execute(
                "select provider_message_id from public.outbound_messages where tenant_id = %s and instance_id = %s"
                " and chat_key = %s and id <> %s and provider_message_id is not null",
                (record.tenant_id, record.instance_id, record.chat_key, record.id),
            ).fetchall()
        return {r["provider_message_id"] for r in rows}

    def set_instance_status(self, instance_id: str, tenant_id: str, status: str) -> None:
        with self._db.as_service(tenant_id) as conn:
            conn.execute("update public.whatsapp_instances set status = %s where id = %s", (status, instance_id))

    def last_inbound_at(self, claims: Claims, conversation_id: str) -> datetime | None:
        with self._db.as_user(claims) as conn:
            row = conn.execute(
                "select max(occurred_at) as at from public.messages where conversation_id = %s and direction = 'in'",
                (conversation_id,),
            ).fetchone()
        return row["at"] if row else None


def find_conversation(
    conn: psycopg.Connection[Any], tenant_id: str, instance_id: str | None, phone_e164: str
) -> dict[str, Any] | None:
    """The tenant's conversation with the phone in any of its forms (9th digit or not, JID, E.164)."""
    row: dict[str, Any] | None = conn.execute(
        "select c.id::text as id, c.chat_key, c.instance_id::text as instance_id, c.contact_id::text as contact_id"
        " from public.conversations c"
        " where c.tenant_id = %s and (%s::uuid is null or c.instance_id = %s::uuid)"
        " and (c.chat_key = any(%s) or c.contact_id in ("
        "   select a.contact_id from public.contact_aliases a where a.tenant_id = %s and a.alias = any(%s)"
        "   union select ct.id from public.contacts ct where ct.tenant_id = %s and ct.phone_e164 = %s))"
        " order by c.last_message_at desc nulls last limit 1",
        (
            tenant_id,
            instance_id,
            instance_id,
            phone_aliases(phone_e164),
            tenant_id,
            phone_aliases(phone_e164),
            tenant_id,
            phone_e164,
        ),
    ).fetchone()
    return row


class PgSuggestions(Suggestions):
    """The reply suggestions the analyze function stores (``public.reply_suggestions``)."""

    def __init__(self, db: Database) -> None:
        self._db = db

    def text_of(self, claims: Claims, suggestion_id: str, conversation_id: str | None) -> str:
        try:
            uuid.UUID(suggestion_id)
        except ValueError as exc:
            raise SuggestionNotFound(suggestion_id) from exc
        with self._db.as_user(claims) as conn:
            row = conn.execute(
                "select text, conversation_id::text as conversation_id from public.reply_suggestions where id = %s",
                (suggestion_id,),
            ).fetchone()
        if row is None or (conversation_id is not None and row["conversation_id"] != conversation_id):
            raise SuggestionNotFound(suggestion_id)
        return str(row["text"])

    def record(self, claims: Claims, suggestion_id: str, outcome: SuggestionOutcome, final_text: str) -> None:
        # the same decision an agent records through the feedback routes (a decided one stays as it is)
        PgFeedbackStore(self._db).decide(claims, suggestion_id, outcome, final_text)
