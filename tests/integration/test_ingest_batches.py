"""The ingest function stores an SQS batch as one unit of work per tenant (one transaction), and
isolates a bad record: its neighbours commit without it."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import psycopg
import pytest

import functions.app as functions_app
from functions.bootstrap import bootstrap
from ponte.adapters.postgres.db import Database
from ponte.domain.envelope import pack_envelopes
from ponte.domain.hidden import ContactRef
from ponte.localstack.seed import seed_tenant
from ponte.settings import Settings
from tests.integration.helpers import envelope, message, seeded_database, sqs_event
from tests.support.privacy import INSTANCE as P_INSTANCE
from tests.support.privacy import OWNER, PHONE, Wired, claims, contact_rows, seeded_and_wired
from tests.support.privacy import TENANT as P_TENANT
from tests.support.privacy import message as p_message

pytestmark = pytest.mark.integration

TENANT = "00000000-0000-4000-8000-0000000001b1"
USER = "00000000-0000-4000-8000-0000000001b2"
INSTANCE = "00000000-0000-4000-8000-0000000001b3"
OTHER_TENANT = "00000000-0000-4000-8000-0000000001c1"
OTHER_INSTANCE = "00000000-0000-4000-8000-0000000001c3"


@pytest.fixture
def wired(db_dsn: str) -> Iterator[Database]:
    with seeded_database(db_dsn, tenant_id=TENANT, user_id=USER, instance_id=INSTANCE) as db:
        with psycopg.connect(db_dsn) as conn:
            seed_tenant(
                conn,
                tenant_id=OTHER_TENANT,
                name="O",
                user_id="00000000-0000-4000-8000-0000000001c2",
                email="o@o.local",
                instance_id=OTHER_INSTANCE,
                webhook_secret="y",
            )
        functions_app.set_container(bootstrap(Settings(database_url=db_dsn), db=db))
        try:
            yield db
        finally:
            functions_app.set_container(None)


def body(tenant: str, instance: str, *ids: str, jid: str = "5511987650001@s.whatsapp.net", text: str = "olá") -> str:
    (packed,) = pack_envelopes([envelope(tenant, instance, message(i, jid=jid, text=text)) for i in ids], 1 << 20)
    return packed


def stored(db: Database, tenant: str) -> set[str]:
    with db.as_service(tenant) as conn:
        rows = conn.execute("select provider_message_id from public.messages where tenant_id = %s", (tenant,))
        return {r["provider_message_id"] for r in rows}


def test_a_batch_is_one_transaction_and_every_message_stored(wired: Database) -> None:
    event = sqs_event(
        *(body(TENANT, INSTANCE, f"M{i}a", f"M{i}b", jid=f"55119876500{i:02d}@s.whatsapp.net") for i in range(10))
    )
    assert functions_app.ingest_batch(event, None) == {"batchItemFailures": []}
    assert stored(wired, TENANT) == {f"M{i}{s}" for i in range(10) for s in "ab"}
    with wired.as_service(TENANT) as conn:
        assert conn.execute("select count(*) as n from public.leads").fetchone()["n"] == 10
        assert conn.execute("select count(*) as n from public.contacts").fetchone()["n"] == 10


def test_one_poison_record_fails_alone_and_nine_good_ones_commit(wired: Database) -> None:
    # GIVEN nine good records and one that is not JSON, and one whose text PostgreSQL refuses
    bodies = [body(TENANT, INSTANCE, f"G{i}") for i in range(8)]
    bodies.insert(3, "not json")
    bodies.insert(6, body(TENANT, INSTANCE, "NUL1", text="ol\x00á").replace("\\u0000", "\\u0000"))
    event = sqs_event(*bodies)
    result = functions_app.ingest_batch(event, None)
    # THEN only the undecodable record is retried; the refused text is quarantined; the rest stored
    assert result == {"batchItemFailures": [{"itemIdentifier": event["Records"][3]["messageId"]}]}  # type: ignore[index]
    assert stored(wired, TENANT) == {f"G{i}" for i in range(8)}
    with wired.as_service(TENANT) as conn:
        assert conn.execute("select count(*) as n from public.webhook_quarantine").fetchone()["n"] == 1


def test_a_batch_mixing_two_tenants_keeps_each_in_its_own(wired: Database) -> None:
    event = sqs_event(
        body(TENANT, INSTANCE, "T1"), body(OTHER_TENANT, OTHER_INSTANCE, "O1"), body(TENANT, INSTANCE, "T2")
    )
    assert functions_app.ingest_batch(event, None) == {"batchItemFailures": []}
    assert stored(wired, TENANT) == {"T1", "T2"}
    assert stored(wired, OTHER_TENANT) == {"O1"}
    with wired.as_service(OTHER_TENANT) as conn:
        rows = conn.execute(
            "select m.tenant_id, c.tenant_id as c from public.messages m join public.contacts c"
            " on c.id = m.contact_id where m.provider_message_id = 'O1'"
        ).fetchall()
    assert [(str(r["tenant_id"]), str(r["c"])) for r in rows] == [(OTHER_TENANT, OTHER_TENANT)]


def test_twenty_concurrent_deliveries_of_one_message_store_it_once(wired: Database) -> None:
    barrier = threading.Barrier(20)
    errors: list[BaseException] = []
    results: list[object] = []

    def deliver(n: int) -> None:
        try:
            barrier.wait(10)
            # each delivery is a batch of its own, with a neighbour of its own
            results.append(
                functions_app.ingest_batch(
                    sqs_event(body(TENANT, INSTANCE, "SAME"), body(TENANT, INSTANCE, f"N{n}")), None
                )
            )
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=deliver, args=(n,)) for n in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert not errors, errors
    assert results == [{"batchItemFailures": []}] * 20
    assert stored(wired, TENANT) == {"SAME", *(f"N{n}" for n in range(20))}
    with wired.as_service(TENANT) as conn:
        assert (
            conn.execute("select count(*) as n from public.messages where tenant_id = %s", (TENANT,)).fetchone()["n"]
            == 21
        )
        assert conn.execute("select count(*) as n from public.leads").fetchone()["n"] == 1
        assert conn.execute("select count(*) as n from public.contacts").fetchone()["n"] == 1


def test_a_hidden_contact_in_a_batch_is_refused_and_its_neighbours_stored(wired: Database) -> None:
    with wired.as_service(TENANT) as conn:
        conn.execute(
            "update public.tenants set settings = jsonb_build_object('hidden_contacts', jsonb_build_array(%s::text))"
            " where id = %s",
            ("+5511987650001", TENANT),
        )
    event = sqs_event(
        body(TENANT, INSTANCE, "OK1", jid="5511987650002@s.whatsapp.net"),
        body(TENANT, INSTANCE, "HID1"),
        body(TENANT, INSTANCE, "OK2", jid="5511987650003@s.whatsapp.net"),
    )
    assert functions_app.ingest_batch(event, None) == {"batchItemFailures": []}
    assert stored(wired, TENANT) == {"OK1", "OK2"}
    with wired.as_service(TENANT) as conn:
        keys = {r["identity_key"] for r in conn.execute("select identity_key from public.contacts")}
    assert "+5511987650001" not in keys


@pytest.fixture
def w(db_dsn: str) -> Iterator[Wired]:
    with seeded_and_wired(db_dsn) as wired:
        yield wired


def test_a_hide_between_two_batches_refuses_the_second(w: Wired) -> None:
    from tests.support.privacy import every_form

    forms = every_form()
    events = [p_message(f"b1-{i}", f) for i, f in enumerate(forms)]
    with w.store.batch(P_TENANT, events):
        first = [w.store.save_message(P_TENANT, P_INSTANCE, event) for event in events]
    assert all(saved.stored for saved in first)
    result = w.service.hide(claims(OWNER), ContactRef(phone=PHONE))
    assert result.deleted.counts["public.messages"] == len(forms)
    events = [p_message(f"b2-{i}", f) for i, f in enumerate(forms)]
    with w.store.batch(P_TENANT, events):
        second = [w.store.save_message(P_TENANT, P_INSTANCE, event) for event in events]
    assert not any(saved.stored for saved in second)
    assert set(contact_rows(w, P_TENANT).values()) == {0}


def test_a_hide_while_batches_are_being_stored_leaves_no_trace(w: Wired) -> None:
    from tests.support.privacy import every_form

    forms = every_form()
    started = threading.Event()
    refused: list[int] = [0, 0]
    errors: list[BaseException] = []

    def writer(n: int) -> None:
        try:
            for b in range(400):
                events = [p_message(f"w{n}-{b}-{i}", forms[(b + i) % len(forms)]) for i in range(5)]
                with w.store.batch(P_TENANT, events):
                    saved = [w.store.save_message(P_TENANT, P_INSTANCE, event) for event in events]
                started.set()
                if not any(s.stored for s in saved):
                    refused[n] += 1
                    if refused[n] >= 3:
                        return
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(2)]
    for t in threads:
        t.start()
    assert started.wait(30)
    w.service.hide(claims(OWNER), ContactRef(phone=PHONE))
    for t in threads:
        t.join(120)
    assert not errors, errors
    assert refused == [3, 3]
    assert set(contact_rows(w, P_TENANT).values()) == {0}
    assert w.service.sweep().deleted.total == 0
