"""The ingest function: Powertools batch processing with partial failures, idempotent store."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

import functions.app as functions_app
from functions.bootstrap import bootstrap
from ponte.adapters.postgres.db import Database
from ponte.domain.envelope import IngestEnvelope
from ponte.domain.events import Direction, MessageEvent, MessageKind, Provider
from ponte.domain.identity import identity_from_jid
from ponte.settings import Settings
from tests.integration.helpers import seeded_database

pytestmark = pytest.mark.integration

TENANT = "00000000-0000-4000-8000-0000000000c1"
USER = "00000000-0000-4000-8000-0000000000c2"
INSTANCE = "00000000-0000-4000-8000-0000000000c3"


@pytest.fixture
def wired(db_dsn: str) -> Iterator[Database]:
    with seeded_database(db_dsn, tenant_id=TENANT, user_id=USER, instance_id=INSTANCE) as db:
        functions_app.set_container(bootstrap(Settings(database_url=db_dsn), db=db))
        try:
            yield db
        finally:
            functions_app.set_container(None)


def envelope(message_id: str, jid: str = "5511987650001@s.whatsapp.net") -> str:
    event = MessageEvent(
        provider=Provider.EVOLUTION,
        instance="demo",
        provider_message_id=message_id,
        direction=Direction.INBOUND,
        chat=identity_from_jid(jid),
        kind=MessageKind.TEXT,
        text="olá",
        occurred_at=datetime(2026, 1, 1, tzinfo=UTC),
    )
    return IngestEnvelope(
        tenant_id=TENANT, instance_id=INSTANCE, received_at=datetime.now(UTC), event=event
    ).model_dump_json()


def sqs_event(*bodies: str) -> dict[str, object]:
    return {
        "Records": [
            {
                "messageId": str(uuid.uuid4()),
                "receiptHandle": "rh",
                "body": body,
                "attributes": {"ApproximateReceiveCount": "1"},
                "messageAttributes": {},
                "md5OfBody": "",
                "eventSource": "aws:sqs",
                "eventSourceARN": "arn:aws:sqs:us-east-1:000000000000:ponte-ingest",
                "awsRegion": "us-east-1",
            }
            for body in bodies
        ]
    }


def test_partial_batch_failure_reports_only_the_bad_record(wired: Database) -> None:
    event = sqs_event(envelope("A1"), "not json", envelope("A2"))
    result = functions_app.ingest_batch(event, None)
    bad_id = event["Records"][1]["messageId"]  # type: ignore[index]
    assert result == {"batchItemFailures": [{"itemIdentifier": bad_id}]}
    with wired.as_service(TENANT) as conn:
        assert conn.execute("select count(*) as n from public.messages").fetchone()["n"] == 2


def test_same_message_twice_and_legacy_jid_are_one_contact_one_message(wired: Database) -> None:
    functions_app.ingest_batch(sqs_event(envelope("B1"), envelope("B1")), None)
    functions_app.ingest_batch(sqs_event(envelope("B2", jid="551187650001@s.whatsapp.net")), None)
    with wired.as_service(TENANT) as conn:
        assert conn.execute("select count(*) as n from public.messages").fetchone()["n"] == 2
        contacts = conn.execute("select identity_key from public.contacts").fetchall()
    assert [c["identity_key"] for c in contacts] == ["+5511987650001"]


def test_chalice_handler_is_wired_to_the_ingest_queue() -> None:
    config = json.loads(json.dumps(functions_app.app.event_sources[0].__dict__, default=str))
    assert config["queue"] == "ponte-ingest"
    assert config["batch_size"] == 10


def nul_envelope(message_id: str, jid: str = "5511987650001@s.whatsapp.net") -> str:
    """What an older proxy (before text was cleaned at intake) could enqueue: NUL in the text."""
    return envelope(message_id, jid).replace('"olá"', '"ol\\u0000á"')


def quarantined(db: Database) -> list[dict[str, object]]:
    with db.as_service(TENANT) as conn:
        rows: list[dict[str, object]] = conn.execute(
            "select provider, reason_code, event, raw_payload from public.webhook_quarantine"
        ).fetchall()
        return rows


def test_an_event_postgres_refuses_is_quarantined_and_its_neighbours_stored(wired: Database) -> None:
    # GIVEN one queue message carrying a good event and one whose text PostgreSQL cannot hold
    body = "[" + ",".join([envelope("G1"), nul_envelope("BAD1"), envelope("G2")]) + "]"
    # WHEN the ingest function handles it
    result = functions_app.ingest_batch(sqs_event(body), None)
    # THEN nothing is retried (a retry could never succeed), the good events are stored...
    assert result == {"batchItemFailures": []}
    with wired.as_service(TENANT) as conn:
        ids = {r["provider_message_id"] for r in conn.execute("select provider_message_id from public.messages")}
    assert ids == {"G1", "G2"}
    # ...and the bad one waits in the quarantine for a fix, with its reason
    (entry,) = quarantined(wired)
    assert (entry["provider"], entry["reason_code"], entry["event"]) == ("ingest", "ingest_data_error", "message")
    assert '"BAD1"' in str(entry["raw_payload"])


def test_a_hidden_contacts_failed_event_leaves_no_trace(wired: Database) -> None:
    with wired.as_service(TENANT) as conn:
        conn.execute(
            "update public.tenants set settings = jsonb_build_object('hidden_contacts', jsonb_build_array(%s::text))"
            " where id = %s",
            ("+5511987650001", TENANT),
        )
    assert functions_app.ingest_batch(sqs_event(nul_envelope("BAD2")), None) == {"batchItemFailures": []}
    assert quarantined(wired) == []


def test_a_message_of_the_earlier_single_envelope_form_still_reads(wired: Database) -> None:
    assert functions_app.ingest_batch(sqs_event(envelope("OLD1")), None) == {"batchItemFailures": []}
    with wired.as_service(TENANT) as conn:
        assert conn.execute("select count(*) as n from public.messages").fetchone()["n"] == 1
