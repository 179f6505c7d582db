"""The set-based ingest (``BulkIngest``) leaves exactly what storing the same events one by one in
their order leaves: random batches mixing new and returning contacts, @lid and phone forms of one
person (links and merges), the legacy 12-digit form, duplicates inside a batch, echoes at later
acks, acks and edits that overtake their message, revokes, several acks for one message, contact
syncs and ERP customers -- stored both ways in two tenants and compared table by table."""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg
import pytest

from ponte.adapters.postgres.db import Database
from ponte.adapters.postgres.ingest_store import PgIngestStore
from ponte.domain.envelope import IngestEnvelope
from ponte.domain.events import (
    AckStatus,
    ContactsEvent,
    ContactUpdate,
    Direction,
    MessageEvent,
    MessageKind,
    Provider,
    StatusEvent,
)
from ponte.domain.identity import identity_from_jid
from ponte.localstack.seed import seed_tenant
from ponte.ports.store import IngestStore

pytestmark = pytest.mark.integration

BULK = ("00000000-0000-4000-8000-0000000005a1", "00000000-0000-4000-8000-0000000005a3")
ONE_BY_ONE = ("00000000-0000-4000-8000-0000000005b1", "00000000-0000-4000-8000-0000000005b3")
START = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
# five people: phone only, @lid linked to a phone later, legacy 8-digit form, landline, @lid only
PHONES = ["5511987650001", "5511987650002", "5521987650003", "551133334444", "5511987650005"]
LIDS = ["111111111111111@lid", "222222222222222@lid", None, None, "555555555555555@lid"]


@pytest.fixture
def db(db_dsn: str) -> Iterator[Database]:
    with psycopg.connect(db_dsn) as conn:
        for n, (tenant, instance) in enumerate((BULK, ONE_BY_ONE)):
            seed_tenant(
                conn,
                tenant_id=tenant,
                name=f"T{n}",
                user_id=f"00000000-0000-4000-8000-0000000005c{n}",
                email=f"t{n}@t.local",
                instance_id=instance,
                webhook_secret="x",
            )
            # ERP customers: one by E.164, one typed with punctuation in the legacy form
            conn.execute(
                "insert into public.customers (tenant_id, external_id, name, phone_e164, phone_raw)"
                " values (%s, 'c1', 'Ana', '+5511987650001', null), (%s, 'c3', 'Bia', null, '(21) 8765-0003')",
                (tenant, tenant),
            )
    database = Database(db_dsn, max_size=2)
    try:
        yield database
    finally:
        database.close()


def chat(person: int, rng: random.Random) -> tuple[str, str | None]:
    """A JID of ``person`` in one of its forms, and the phone hint a payload may carry with it."""
    phone, lid = PHONES[person], LIDS[person]
    forms: list[tuple[str, str | None]] = [(f"{phone}@s.whatsapp.net", None)]
    if person == 2:
        forms.append(("552187650003@s.whatsapp.net", None))  # without the 9th digit
    if lid is not None:
        forms.append((lid, None))
        if person != 4:  # the fifth person's phone is never revealed
            forms.append((lid, f"{phone}@s.whatsapp.net"))
    return rng.choice(forms)


def random_events(rng: random.Random, n: int) -> list[Any]:
    events: list[Any] = []
    ids: list[tuple[str, Direction, int, str]] = []
    for i in range(n):
        at = START + timedelta(seconds=i)
        roll = rng.random()
        if ids and roll < 0.12:
            mid, direction, _, _ = rng.choice(ids)
            status = rng.choice(list(AckStatus))
            events.append(
                StatusEvent(
                    provider=Provider.EVOLUTION,
                    instance="t",
                    provider_message_id=mid,
                    from_me=rng.choice([None, direction is Direction.OUTBOUND]),
                    status=status,
                    error_code=rng.choice(["131026", "131047"]) if status is AckStatus.ERROR else None,
                    occurred_at=at,
                )
            )
            continue
        if roll < 0.17:  # an ack for a message that comes later (or never)
            events.append(
                StatusEvent(
                    provider=Provider.EVOLUTION,
                    instance="t",
                    provider_message_id=f"M{i + rng.randint(1, 6)}",
                    from_me=None,
                    status=rng.choice([AckStatus.DELIVERED, AckStatus.READ, AckStatus.DELETED, AckStatus.ERROR]),
                    error_code="131049",
                    occurred_at=at,
                )
            )
            continue
        if roll < 0.21:
            person = rng.randrange(len(PHONES))
            jid, hint = chat(person, rng)
            events.append(
                ContactsEvent(
                    provider=Provider.EVOLUTION,
                    instance="t",
                    contacts=(ContactUpdate(identity=identity_from_jid(jid, phone_hint=hint), push_name=f"Nome {i}"),),
                )
            )
            continue
        person = rng.randrange(len(PHONES))
        text = f"texto {i}"
        if ids and roll < 0.33:  # a redelivery (maybe in another form of the chat), maybe an echo at a later ack
            mid, direction, person, text = rng.choice(ids)
            kind, target = MessageKind.TEXT, None
        elif roll < 0.40:  # an edit or revoke of a message before or after it
            mid, direction = f"E{i}", Direction.INBOUND
            kind, target = rng.choice([MessageKind.EDITED, MessageKind.REVOKED]), f"M{i + rng.randint(-5, 3)}"
        else:
            mid, direction = f"M{i}", rng.choice([Direction.INBOUND, Direction.INBOUND, Direction.OUTBOUND])
            kind, target = MessageKind.TEXT, None
            ids.append((mid, direction, person, text))
        jid, hint = chat(person, rng)
        identity = identity_from_jid(jid, phone_hint=hint)
        events.append(
            MessageEvent(
                provider=Provider.EVOLUTION,
                instance="t",
                provider_message_id=mid,
                direction=direction,
                chat=identity,
                kind=kind,
                text=text,
                target_message_id=target,
                occurred_at=at,
                push_name=f"Pessoa {person} v{i}" if direction is Direction.INBOUND else None,
                status=rng.choice([None, AckStatus.SENT, AckStatus.DELIVERED])
                if direction is Direction.OUTBOUND
                else None,
            )
        )
    return events


def envelopes(tenant: tuple[str, str], events: list[Any]) -> list[IngestEnvelope]:
    return [IngestEnvelope(tenant_id=tenant[0], instance_id=tenant[1], received_at=START, event=e) for e in events]


def snapshot(db: Database, tenant: str) -> dict[str, Any]:
    """The tenant's ingest tables with ids replaced by what they stand for."""
    with db.as_service(tenant) as conn:
        q = conn.execute

        def rows(sql: str) -> list[tuple[Any, ...]]:
            return sorted(tuple(r.values()) for r in q(sql, {"t": tenant}).fetchall())

        return {
            "contacts": rows(
                "select identity_key, phone_e164, display_name from public.contacts where tenant_id = %(t)s"
            ),
            "aliases": rows(
                "select a.alias, c.identity_key from public.contact_aliases a"
                " join public.contacts c on c.id = a.contact_id where a.tenant_id = %(t)s"
            ),
            "conversations": rows(
                "select v.chat_key, c.identity_key, v.last_message_at, v.last_inbound_at, v.sla_due_at"
                " from public.conversations v"
                " join public.contacts c on c.id = v.contact_id where v.tenant_id = %(t)s"
            ),
            "messages": rows(
                "select m.chat_key, m.provider_message_id, m.direction, m.kind, m.body, m.status, m.status_at,"
                " m.status_error, m.edited_at, m.target_message_id, v.chat_key as thread, c.identity_key"
                " from public.messages m join public.conversations v on v.id = m.conversation_id"
                " join public.contacts c on c.id = m.contact_id where m.tenant_id = %(t)s"
            ),
            "leads": rows(
                "select c.identity_key, cu.external_id, l.returning_customer, l.source, m.provider_message_id"
                " from public.leads l join public.contacts c on c.id = l.contact_id"
                " left join public.customers cu on cu.id = l.customer_id"
                " left join public.messages m on m.id = l.first_message_id where l.tenant_id = %(t)s"
            ),
            "pending_status": rows(
                "select provider_message_id, direction, status, status_at, error_code"
                " from private.pending_message_status where tenant_id = %(t)s"
            ),
            "pending_edits": rows(
                "select provider_message_id, body, edited_at from private.pending_message_edits where tenant_id = %(t)s"
            ),
        }


@pytest.mark.parametrize("seed", range(int(__import__("os").environ.get("SEEDS", "25"))))
def test_random_batches_stored_set_based_equal_one_by_one(db: Database, seed: int) -> None:
    rng = random.Random(seed)
    store = PgIngestStore(db)
    events = random_events(rng, 80)
    results_bulk, results_one = [], []
    start = 0
    while start < len(events):  # batches of 1 to 25 events
        batch = events[start : start + rng.randint(1, 25)]
        start += len(batch)
        results_bulk += store.save_batch(BULK[0], envelopes(BULK, batch))
        # the port's own loop: each event stored alone, in order, inside one transaction
        results_one += IngestStore.save_batch(store, ONE_BY_ONE[0], envelopes(ONE_BY_ONE, batch))
    bulk, one = snapshot(db, BULK[0]), snapshot(db, ONE_BY_ONE[0])
    for table in bulk:
        assert bulk[table] == one[table], table

    # what each message did is the same too (an ack whose message comes later in the same batch
    # applies at once instead of being parked first: its own ``stored`` may differ, the rows do not)
    def outcome(results: list[Any]) -> list[tuple[bool, ...]]:
        return [
            (
                r.stored,
                r.lead_id is not None,
                r.needs_analysis,
                r.message_id is not None,
                r.conversation_created,
                r.inbound,
                r.kind,
                r.occurred_at,
            )
            for e, r in zip(events, results, strict=True)
            if isinstance(e, MessageEvent)
        ]

    assert outcome(results_bulk) == outcome(results_one)
    assert bulk["messages"], "the batch stored messages"


def test_a_batch_creates_each_lead_once_matched_to_the_erp_in_any_form(db: Database) -> None:
    store = PgIngestStore(db)
    events = [
        MessageEvent(
            provider=Provider.EVOLUTION,
            instance="t",
            provider_message_id=f"L{i}",
            direction=Direction.INBOUND,
            chat=identity_from_jid(jid),
            kind=MessageKind.TEXT,
            text="oi",
            occurred_at=START + timedelta(seconds=i),
        )
        for i, jid in enumerate(
            ["5511987650001@s.whatsapp.net", "552187650003@s.whatsapp.net", "5511987650001@s.whatsapp.net"]
        )
    ]
    results = store.save_batch(BULK[0], envelopes(BULK, events))
    assert [r.lead_id is not None for r in results] == [True, True, False]
    assert [r.conversation_created for r in results] == [True, True, False]
    assert results[0].conversation_id == results[2].conversation_id
    leads = snapshot(db, BULK[0])["leads"]
    assert leads == [
        ("+5511987650001", "c1", True, "organic", "L0"),
        ("+5521987650003", "c3", True, "organic", "L1"),
    ]
