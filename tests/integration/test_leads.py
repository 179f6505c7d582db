"""Lead creation in the ingest transaction on real PostgreSQL: once, matched, tagged."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import psycopg
import pytest

from ponte.adapters.postgres.db import Database
from ponte.adapters.postgres.ingest_store import PgIngestStore
from ponte.domain.events import Direction, Referral
from ponte.localstack.seed import seed_tenant
from ponte.services.ingest import IngestService
from tests.fakes.analysis import FakeAnalyzeQueue
from tests.integration.helpers import envelope, message

pytestmark = pytest.mark.integration

TENANT = "00000000-0000-4000-8000-0000000000e1"
USER = "00000000-0000-4000-8000-0000000000e2"
INSTANCE = "00000000-0000-4000-8000-0000000000e3"
OTHER_TENANT = "00000000-0000-4000-8000-0000000000f1"
OTHER_USER = "00000000-0000-4000-8000-0000000000f2"


@pytest.fixture
def db(db_dsn: str) -> Iterator[Database]:
    with psycopg.connect(db_dsn) as conn:
        seed_tenant(
            conn, tenant_id=TENANT, name="T", user_id=USER, email="e@t.local", instance_id=INSTANCE, webhook_secret="x"
        )
        seed_tenant(conn, tenant_id=OTHER_TENANT, name="O", user_id=OTHER_USER, email="f@o.local")
    database = Database(db_dsn, max_size=10)
    try:
        yield database
    finally:
        database.close()


def add_customer(
    db: Database, external_id: str, *, phone_e164: str | None = None, phone_raw: str | None = None, tenant: str = TENANT
) -> str:
    with db.as_service(tenant) as conn:
        row = conn.execute(
            "insert into public.customers (tenant_id, external_id, name, phone_e164, phone_raw)"
            " values (%s, %s, 'Maria Cliente', %s, %s) returning id::text as id",
            (tenant, external_id, phone_e164, phone_raw),
        ).fetchone()
    return str(row["id"])


def leads(db: Database) -> list[dict[str, Any]]:
    with db.as_service(TENANT) as conn:
        return list(
            conn.execute(
                "select l.id::text, l.customer_id::text, l.returning_customer, l.source, l.source_id, c.identity_key,"
                " l.first_message_id::text from public.leads l join public.contacts c on c.id = l.contact_id"
                " where l.tenant_id = %s",
                (TENANT,),
            ).fetchall()
        )


def ingest(db: Database, queue: FakeAnalyzeQueue | None = None) -> IngestService:
    return IngestService(PgIngestStore(db), queue)


def test_first_message_creates_one_lead_matched_to_the_erp_customer_by_legacy_phone(db: Database) -> None:
    # GIVEN the ERP stored the customer without the 9th digit, and another tenant has the same phone
    customer = add_customer(db, "ERP-1", phone_e164="+551187650001")
    add_customer(db, "ERP-X", phone_e164="+5511987650001", tenant=OTHER_TENANT)
    service = ingest(db)
    # WHEN the number writes twice (and the first message is delivered twice)
    first = service.handle(envelope(TENANT, INSTANCE, message("A1")))
    service.handle(envelope(TENANT, INSTANCE, message("A1")))
    later = service.handle(envelope(TENANT, INSTANCE, message("A2", jid="551187650001@s.whatsapp.net")))
    # THEN one lead, for the canonical number, linked to this tenant's customer
    assert first.lead_created and not later.lead_created
    [lead] = leads(db)
    assert (lead["customer_id"], lead["returning_customer"], lead["identity_key"]) == (customer, True, "+5511987650001")
    assert lead["source"] == "organic" and lead["first_message_id"] is not None


@pytest.mark.parametrize("raw", ["(11) 98765-0001", "11 8765-0001", "+55 11 98765-0001"])
def test_customer_typed_phone_matches_in_any_form(db: Database, raw: str) -> None:
    customer = add_customer(db, "ERP-2", phone_raw=raw)
    ingest(db).handle(envelope(TENANT, INSTANCE, message("B1")))
    assert [lead["customer_id"] for lead in leads(db)] == [customer]


def test_an_unknown_number_is_a_new_lead_without_customer_tagged_with_its_source(db: Database) -> None:
    ad = Referral(source="ctwa_ad", source_id="120210000000", source_url="https://fb.me/abc")
    ingest(db).handle(envelope(TENANT, INSTANCE, message("C1", referral=ad)))
    [lead] = leads(db)
    assert (lead["customer_id"], lead["returning_customer"]) == (None, False)
    assert (lead["source"], lead["source_id"]) == ("ctwa_ad", "120210000000")


def test_an_agents_first_message_creates_no_lead_the_customers_reply_does(db: Database) -> None:
    service = ingest(db)
    service.handle(envelope(TENANT, INSTANCE, message("D1", direction=Direction.OUTBOUND)))
    assert leads(db) == []
    service.handle(envelope(TENANT, INSTANCE, message("D2")))
    assert len(leads(db)) == 1


def test_concurrent_deliveries_from_a_new_number_create_exactly_one_lead(db: Database) -> None:
    # GIVEN 8 threads delivering different messages (and duplicates) of one new number at once
    service = ingest(db)
    barrier = threading.Barrier(8)
    errors: list[BaseException] = []
    jids = ["5511987650001@s.whatsapp.net", "551187650001@s.whatsapp.net"]

    def deliver(i: int) -> None:
        try:
            barrier.wait(timeout=10)
            service.handle(envelope(TENANT, INSTANCE, message(f"E{i % 5}", jid=jids[i % 2])))
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=deliver, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    # THEN every delivery succeeded, and there is one contact, one lead, five messages
    assert errors == []
    assert len(leads(db)) == 1
    with db.as_service(TENANT) as conn:
        assert conn.execute("select count(*) as n from public.contacts").fetchone()["n"] == 1
        assert conn.execute("select count(*) as n from public.messages").fetchone()["n"] == 5


def test_new_inbound_texts_are_enqueued_and_a_redelivery_re_enqueues_only_unanalysed_ones(db: Database) -> None:
    queue = FakeAnalyzeQueue()
    service = ingest(db, queue)
    service.handle(envelope(TENANT, INSTANCE, message("F1")))
    service.handle(envelope(TENANT, INSTANCE, message("F2", direction=Direction.OUTBOUND)))
    assert len(queue.jobs) == 1
    job = queue.jobs[0][0]
    # a redelivery before any analysis was stored enqueues again (the job may have been lost)
    service.handle(envelope(TENANT, INSTANCE, message("F1")))
    assert [j.message_id for j, _ in queue.jobs] == [job.message_id, job.message_id]


def test_members_read_their_leads_and_others_do_not(db: Database) -> None:
    ingest(db).handle(envelope(TENANT, INSTANCE, message("G1")))
    with db.as_user({"sub": USER, "role": "authenticated"}) as conn:
        assert conn.execute("select count(*) as n from public.leads").fetchone()["n"] == 1
    with db.as_user({"sub": OTHER_USER, "role": "authenticated"}) as conn:
        assert conn.execute("select count(*) as n from public.leads").fetchone()["n"] == 0
    with db.as_user({"role": "anon"}) as conn:
        assert conn.execute("select count(*) as n from public.leads").fetchone()["n"] == 0
