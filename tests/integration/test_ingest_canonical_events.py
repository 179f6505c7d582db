"""The ingest side of the canonical events on real PostgreSQL: fixtures in, rows out.

One person is one contact whatever form arrives (@lid, legacy JID, phone); acks move message
status forward only; edits and revokes change the message they point at; contact updates refresh
known contacts and never create contacts from an address-book sync.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psycopg
import pytest

from ponte.adapters.postgres.db import Database
from ponte.adapters.postgres.ingest_store import PgIngestStore
from ponte.domain.envelope import IngestEnvelope
from ponte.domain.events import AckStatus, CanonicalEvent, Provider, StatusEvent
from ponte.domain.identity import identity_of
from ponte.domain.realtime import ConversationMergedPayload
from ponte.services.ingest import IngestService
from proxy import providers
from tests.integration.helpers import seeded_database

pytestmark = pytest.mark.integration

TENANT = "00000000-0000-4000-8000-0000000003a1"
USER = "00000000-0000-4000-8000-0000000003a2"
INSTANCE = "00000000-0000-4000-8000-0000000003a3"
PROVIDERS = Path(__file__).resolve().parents[2] / "proxy" / "providers"


@pytest.fixture
def db(db_dsn: str) -> Iterator[Database]:
    with seeded_database(db_dsn, tenant_id=TENANT, user_id=USER, instance_id=INSTANCE) as database:
        yield database


def events_of(provider: str, name: str, **patch: Any) -> tuple[CanonicalEvent, ...]:
    payload = json.loads((PROVIDERS / provider / "fixtures" / f"{name}.json").read_text())
    for dotted, value in patch.items():
        target = payload
        *path, last = dotted.split("__")
        for step in path:
            target = target[step]
        target[last] = value
    result = providers.normalize(provider, payload, instance="loja")
    assert result.outcome.value == "accepted", result
    return result.events


def ingest(db: Database, *events: CanonicalEvent) -> list[bool]:
    service = IngestService(PgIngestStore(db))
    return [
        service.handle(
            IngestEnvelope(tenant_id=TENANT, instance_id=INSTANCE, received_at=datetime.now(UTC), event=e)
        ).stored
        for e in events
    ]


def rows(db: Database, sql: str) -> list[dict[str, Any]]:
    with db.as_service(TENANT) as conn:
        return list(conn.execute(sql).fetchall())


def test_lid_first_then_linked_then_phone_is_one_contact_and_one_conversation(db: Database) -> None:
    # GIVEN a message from an @lid with no phone anywhere in the payload
    lid = "104857600000003@lid"
    ingest(db, *events_of("evolution", "messages.upsert__lid-no-phone-constructed__01"))
    assert [r["identity_key"] for r in rows(db, "select identity_key from public.contacts")] == [lid]
    # WHEN a later payload carries the same @lid with its phone (remoteJidAlt)
    ingest(
        db,
        *events_of(
            "evolution",
            "messages.upsert__lid-remoteJidAlt-v2.3.3-constructed__01",
            data__key__remoteJid=lid,
            data__key__remoteJidAlt="5531987650199@s.whatsapp.net",
        ),
    )
    # AND then a message arrives under the legacy phone JID only
    ingest(
        db,
        *events_of(
            "evolution", "messages.upsert__text-inbound-ios__01", data__key__remoteJid="553187650199@s.whatsapp.net"
        ),
    )
    # THEN one contact keyed by the phone, with the @lid and both JIDs as aliases, one conversation
    (contact,) = rows(db, "select id, identity_key, phone_e164 from public.contacts")
    assert (contact["identity_key"], contact["phone_e164"]) == ("+5531987650199", "+5531987650199")
    aliases = {r["alias"] for r in rows(db, "select alias from public.contact_aliases")}
    assert {lid, "553187650199@s.whatsapp.net", "5531987650199@s.whatsapp.net"} <= aliases
    assert [r["chat_key"] for r in rows(db, "select chat_key from public.conversations")] == ["+5531987650199"]
    assert {r["chat_key"] for r in rows(db, "select chat_key from public.messages")} == {"+5531987650199"}
    assert len(rows(db, "select 1 from public.messages")) == 3


def test_a_linking_payload_merges_a_phone_contact_and_a_lid_contact(db: Database, db_dsn: str) -> None:
    # GIVEN the same person stored twice: once by phone, once by an unlinked @lid
    ingest(db, *events_of("evolution", "messages.upsert__text-inbound-ios__01"))  # 553199944501 -> +5531999944501
    ingest(
        db,
        *events_of(
            "evolution", "messages.upsert__lid-no-phone-constructed__01", data__key__remoteJid="104857600000077@lid"
        ),
    )
    assert len(rows(db, "select 1 from public.contacts")) == 2
    lid_thread = rows(db, "select id from public.conversations where chat_key = '104857600000077@lid'")[0]["id"]
    # WHEN a contact update links the @lid to that phone
    contacts = events_of(
        "evolution",
        "contacts.update__single-object-constructed__01",
        data__remoteJid="104857600000077@lid",
        data__remoteJidAlt="5531999944501@s.whatsapp.net",
    )
    assert ingest(db, *contacts) == [True]
    # THEN one contact remains, the phone one, owning both conversations and both messages
    (contact,) = rows(db, "select id::text, identity_key, display_name, picture_url from public.contacts")
    assert contact["identity_key"] == "+5531999944501"
    assert contact["display_name"] == "Carla Fictícia" and contact["picture_url"]
    owners = {r["contact_id"] for r in rows(db, "select contact_id::text from public.messages")}
    assert owners == {contact["id"]}
    assert len(rows(db, "select 1 from public.leads")) == 1
    # AND one conversation, keyed by the phone, holds both messages and the lead
    (conversation,) = rows(db, "select id, chat_key from public.conversations")
    assert conversation["chat_key"] == "+5531999944501"
    messages = rows(db, "select conversation_id, chat_key from public.messages")
    assert [(m["conversation_id"], m["chat_key"]) for m in messages] == [(conversation["id"], "+5531999944501")] * 2
    assert [r["conversation_id"] for r in rows(db, "select conversation_id from public.leads")] == [conversation["id"]]
    # AND the UIs are told which conversation went where
    with psycopg.connect(db_dsn) as conn:
        announced = conn.execute(
            "select topic, payload from realtime.messages where event = 'conversation_merged'"
        ).fetchall()
    ((topic, payload),) = announced
    merged = ConversationMergedPayload.model_validate(payload)
    assert topic == f"tenant:{TENANT}"
    assert (merged.id, merged.merged_into) == (lid_thread, conversation["id"])


def test_a_message_stored_in_both_threads_of_a_merged_person_is_kept_once(db: Database) -> None:
    # GIVEN a message sent to a phone, and its echo reported on the person's unlinked @lid
    sent = events_of("evolution", "send.message__text-pending-constructed__01")
    (message,) = sent
    assert message.type == "message"
    echo = events_of(
        "evolution",
        "messages.upsert__lid-no-phone-constructed__01",
        data__key__remoteJid="104857600000088@lid",
        data__key__fromMe=True,
        data__key__id=message.provider_message_id,
    )
    ingest(db, *sent, *echo)
    assert len(rows(db, "select 1 from public.messages")) == 2
    # WHEN a contact update links the @lid to the phone
    link = events_of(
        "evolution",
        "contacts.update__single-object-constructed__01",
        data__remoteJid="104857600000088@lid",
        data__remoteJidAlt=message.chat.jid,
    )
    assert ingest(db, *link) == [True]
    # THEN one contact, one conversation and one copy of the message remain
    assert len(rows(db, "select 1 from public.contacts")) == 1
    assert len(rows(db, "select 1 from public.conversations")) == 1
    assert [r["provider_message_id"] for r in rows(db, "select provider_message_id from public.messages")] == [
        message.provider_message_id
    ]


def test_an_address_book_sync_never_creates_contacts(db: Database) -> None:
    assert ingest(db, *events_of("evolution", "contacts.upsert__array-data__01")) == [False]
    assert rows(db, "select 1 from public.contacts") == []


def test_send_message_and_its_echo_are_stored_once_and_acks_only_move_forward(db: Database) -> None:
    sent = events_of("evolution", "send.message__text-pending-constructed__01")
    echo = events_of("evolution", "messages.upsert__fromMe-echo-of-send-message-constructed__01")
    assert ingest(db, *sent) == [True]
    (message,) = rows(db, "select provider_message_id, direction, status from public.messages")
    assert (message["direction"], message["status"]) == ("out", "pending")
    # the fromMe echo at SERVER_ACK stores nothing new but moves the message to sent
    assert ingest(db, *echo) == [False]
    (message,) = rows(db, "select provider_message_id, direction, status from public.messages")
    assert (message["direction"], message["status"]) == ("out", "sent")
    # and the PENDING echo delivered again never moves it back
    assert ingest(db, *sent) == [False]
    assert rows(db, "select status from public.messages")[0]["status"] == "sent"
    # WHEN acks arrive out of order: read, then a late delivered
    read = events_of("evolution", "messages.update__read-v2-constructed__01")
    late = StatusEvent(
        provider=Provider.EVOLUTION,
        instance="loja",
        provider_message_id=message["provider_message_id"],
        from_me=True,
        status=AckStatus.DELIVERED,
    )
    assert ingest(db, *read, late) == [True, False]
    assert rows(db, "select status from public.messages")[0]["status"] == "read"
    # AND an ack for a message Ponte never stored changes nothing
    unknown = late.model_copy(update={"provider_message_id": "NOPE"})
    assert ingest(db, unknown) == [False]


def test_edit_and_revoke_change_the_message_they_point_at(db: Database) -> None:
    # GIVEN a stored inbound message with the id the edit / revoke fixtures target
    original = events_of("evolution", "messages.upsert__text-inbound-ios__01", data__key__id="3EB0C0FFEE0000000000AC")
    other = events_of("evolution", "messages.upsert__text-inbound-ios__01", data__key__id="3EB0C0FFEE0000000000AB")
    ingest(db, *original, *other)
    # WHEN Evolution reports the edit (with the instance's own number as the chat) and a revoke
    edited = events_of("evolution", "messages.edited__protocol-constructed__01")
    revoked = events_of("evolution", "messages.delete__raw-key-constructed__01")
    revoke_in_upsert = events_of("evolution", "messages.upsert__protocol-revoke-constructed__01")
    assert ingest(db, *edited, *revoked, *revoke_in_upsert) == [True, True, False]
    by_id = {r["provider_message_id"]: r for r in rows(db, "select * from public.messages")}
    assert by_id["3EB0C0FFEE0000000000AC"]["body"] == "Na verdade quero o tamanho 39"
    assert by_id["3EB0C0FFEE0000000000AC"]["edited_at"] is not None
    assert by_id["3EB0C0FFEE0000000000AB"]["status"] == "deleted"
    # AND no contact or conversation was made for the instance's own number
    assert len(rows(db, "select 1 from public.contacts")) == 1


def test_reactions_are_stored_with_their_target(db: Database) -> None:
    ingest(db, *events_of("wppconnect", "onreactionmessage__thumbs-up-ms-timestamp__01"))
    (row,) = rows(db, "select kind, body, target_message_id, occurred_at from public.messages")
    assert (row["kind"], row["body"], row["target_message_id"]) == ("reaction", "👍", "3EB03F43F0F814BEA8AB")
    assert row["occurred_at"] == datetime(2023, 4, 3, 20, 41, 13, tzinfo=UTC)


def test_connection_and_qr_events_pass_through_ingest(db: Database) -> None:
    events = (
        *events_of("evolution", "connection.update__close-401-loggedout__01"),
        *events_of("wppconnect", "qrcode__urlcode-constructed__01"),
    )
    assert ingest(db, *events) == [False, False]


def test_identity_of_a_contact_update_with_lid_and_phone() -> None:
    identity = identity_of("104857600000077@lid", "5531999944501@s.whatsapp.net")
    assert identity.key == "+5531999944501"


def test_an_ack_that_overtakes_its_message_is_applied_when_the_message_arrives(db: Database) -> None:
    # GIVEN the queue delivers READ (and a stale SERVER_ACK) before the API-sent message itself
    read = events_of("evolution", "messages.update__read-v2-constructed__01")
    sent_ack = events_of("evolution", "messages.update__read-v2-constructed__01", data__status="SERVER_ACK")
    assert ingest(db, *read, *sent_ack) == [False, False]
    # WHEN the message is stored
    assert ingest(db, *events_of("evolution", "send.message__text-pending-constructed__01")) == [True]
    # THEN it carries the furthest status, and nothing is left waiting
    assert rows(db, "select status from public.messages")[0]["status"] == "read"
    assert rows(db, "select * from private.pending_message_status") == []


def test_an_ack_that_does_not_move_a_stored_message_forward_is_not_parked(db: Database) -> None:
    ingest(db, *events_of("evolution", "send.message__text-pending-constructed__01"))
    ingest(db, *events_of("evolution", "messages.update__read-v2-constructed__01"))
    stale = events_of("evolution", "messages.update__read-v2-constructed__01", data__status="SERVER_ACK")
    assert ingest(db, *stale) == [False]
    assert rows(db, "select * from private.pending_message_status") == []


# --- changes that overtake their message ------------------------------------------------------

EDIT_TARGET = "3EB0C0FFEE0000000000AC"  # the message messages.edited__protocol-constructed__01 edits


def test_an_edit_that_overtakes_its_message_is_applied_when_the_message_arrives(db: Database) -> None:
    # GIVEN the edit is delivered before the message it edits (a retried first delivery)
    assert ingest(db, *events_of("evolution", "messages.edited__protocol-constructed__01")) == [False]
    assert len(rows(db, "select * from private.pending_message_edits")) == 1
    # WHEN the message is stored
    ingest(db, *events_of("evolution", "messages.upsert__text-inbound-ios__01", data__key__id=EDIT_TARGET))
    # THEN it carries the edited text and its edit time, and nothing is left waiting
    (message,) = rows(db, "select body, edited_at from public.messages")
    assert message["body"] == "Na verdade quero o tamanho 39"
    assert message["edited_at"] == datetime(2025, 10, 20, 15, 15, 5, tzinfo=UTC)
    assert rows(db, "select * from private.pending_message_edits") == []


def test_of_two_early_edits_the_later_one_wins_whatever_their_order(db: Database) -> None:
    later = events_of("evolution", "messages.edited__protocol-constructed__01")
    earlier = events_of(
        "evolution",
        "messages.edited__protocol-constructed__01",
        data__timestampMs="1760973300000",
        data__editedMessage__conversation="primeira versão",
    )
    assert ingest(db, *later, *earlier) == [False, False]
    ingest(db, *events_of("evolution", "messages.upsert__text-inbound-ios__01", data__key__id=EDIT_TARGET))
    assert rows(db, "select body from public.messages")[0]["body"] == "Na verdade quero o tamanho 39"


def test_a_revoke_that_overtakes_its_message_deletes_it_when_it_arrives(db: Database) -> None:
    # GIVEN a revoke inside messages.upsert (protocolMessage) arrives before its target
    assert ingest(db, *events_of("evolution", "messages.upsert__protocol-revoke-constructed__01")) == [False]
    # WHEN the target arrives
    ingest(db, *events_of("evolution", "messages.upsert__text-inbound-ios__01", data__key__id="3EB0C0FFEE0000000000AB"))
    # THEN it is stored as deleted
    (message,) = rows(db, "select status from public.messages where provider_message_id = '3EB0C0FFEE0000000000AB'")
    assert message["status"] == "deleted"
    assert rows(db, "select * from private.pending_message_status") == []


def test_an_early_edit_of_a_hidden_contact_leaves_no_trace(db: Database, db_dsn: str) -> None:
    # GIVEN an early edit whose chat is the contact, and one labelled with the instance's own number
    own_chat = events_of("evolution", "messages.edited__protocol-constructed__01")
    contact_chat = events_of(
        "evolution",
        "messages.edited__protocol-constructed__01",
        data__key__remoteJid="553199944501@s.whatsapp.net",
        data__key__id="3EB0C0FFEE0000000000AD",
    )
    ingest(db, *own_chat, *contact_chat)
    assert len(rows(db, "select * from private.pending_message_edits")) == 2
    # WHEN the contact is hidden: the purge finds the edit by its chat
    with psycopg.connect(db_dsn, autocommit=True) as conn:
        conn.execute(
            "update public.tenants set settings = jsonb_set(settings, '{hidden_contacts}', '[\"+5531999944501\"]')"
            " where id = %s",
            (TENANT,),
        )
        conn.execute("select private.purge_contact_data(%s, array['+5531999944501'])", (TENANT,))
    assert [r["provider_message_id"] for r in rows(db, "select * from private.pending_message_edits")] == [EDIT_TARGET]
    # AND when the contact's message arrives it is refused, and the edit that waited for it goes too
    message = events_of("evolution", "messages.upsert__text-inbound-ios__01", data__key__id=EDIT_TARGET)
    assert ingest(db, *message) == [False]
    assert rows(db, "select * from private.pending_message_edits") == []
    assert rows(db, "select * from public.messages") == []


def test_changes_whose_message_never_comes_expire(db: Database, db_dsn: str) -> None:
    ingest(
        db,
        *events_of("evolution", "messages.edited__protocol-constructed__01"),
        *events_of("evolution", "messages.update__read-v2-constructed__01"),
    )
    service = IngestService(PgIngestStore(db))
    # nothing is young enough to go
    assert service.expire_pending() == {"pending_message_edits": 0, "pending_message_status": 0}
    with psycopg.connect(db_dsn, autocommit=True) as conn:
        for table in ("pending_message_edits", "pending_message_status"):
            conn.execute(f"update private.{table} set received_at = now() - interval '25 hours'")
    assert service.expire_pending() == {"pending_message_edits": 1, "pending_message_status": 1}
    assert rows(db, "select * from private.pending_message_edits") == []


# --- the echo of an agent's send ----------------------------------------------------------------


def unconfirmed_send(db_dsn: str, key: str, body: str, created_at: datetime) -> None:
    """An outbox row whose gateway call timed out: the proxy answered 202 and the agent went away."""
    with psycopg.connect(db_dsn, autocommit=True) as conn:
        conn.execute(
            "insert into public.outbound_messages (tenant_id, instance_id, chat_key, recipient, idempotency_key,"
            " request_hash, body, status, attempts, created_at) values (%s, %s, '+5511987650110', '5511987650110',"
            " %s, 'h', %s, 'unconfirmed', 1, %s)",
            (TENANT, INSTANCE, key, body, created_at),
        )


def test_the_echo_of_an_unconfirmed_send_confirms_it(db: Database, db_dsn: str) -> None:
    # GIVEN two unconfirmed sends to the chat (one of another text) made just before the echo's time
    sent_at = datetime(2025, 10, 20, 15, 15, 0, tzinfo=UTC)
    unconfirmed_send(db_dsn, "send-key-other-text", "Outro texto", sent_at)
    unconfirmed_send(db_dsn, "send-key-the-echoed", "Olá! Seu pedido foi confirmado. ", sent_at)
    # WHEN the gateway's echo of the send arrives through the webhook
    (echo,) = events_of("evolution", "send.message__text-pending-constructed__01")
    assert ingest(db, echo) == [True]
    # THEN the send with the same text is confirmed and linked to the stored message; the other waits
    outbox = {
        r["idempotency_key"]: r
        for r in rows(db, "select idempotency_key, status, provider_message_id, message_id from outbound_messages")
    }
    (message,) = rows(db, "select id from public.messages")
    assert outbox["send-key-the-echoed"]["status"] == "sent"
    assert outbox["send-key-the-echoed"]["provider_message_id"] == echo.provider_message_id  # type: ignore[union-attr]
    assert outbox["send-key-the-echoed"]["message_id"] == message["id"]
    assert outbox["send-key-other-text"]["status"] == "unconfirmed"
    # AND a redelivery of the echo confirms nothing else
    assert ingest(db, echo) == [False]
    assert rows(db, "select count(*) as n from public.outbound_messages where status = 'sent'")[0]["n"] == 1


def test_an_echo_older_than_the_send_does_not_confirm_it(db: Database, db_dsn: str) -> None:
    # a message with the same text sent by hand from the phone an hour before the agent's send
    later = datetime(2025, 10, 20, 16, 15, tzinfo=UTC)
    unconfirmed_send(db_dsn, "send-key-later-send", "Olá! Seu pedido foi confirmado.", later)
    ingest(db, *events_of("evolution", "send.message__text-pending-constructed__01"))
    assert rows(db, "select status from public.outbound_messages")[0]["status"] == "unconfirmed"
