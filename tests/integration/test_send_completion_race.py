"""Completing a send races the ingest of its echo on real PostgreSQL: the two take the contact and
the conversation in opposite orders, PostgreSQL aborts one of them as a deadlock victim, and the
send's completion runs again instead of answering 500 for a message that went out."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psycopg
import pytest

from ponte.adapters.postgres.db import Database
from ponte.adapters.postgres.ingest_store import PgIngestStore
from ponte.adapters.postgres.sending import PgSendStore
from ponte.domain.envelope import IngestEnvelope
from ponte.domain.gateway import SentMessage
from ponte.ports.sending import OutboxDraft
from ponte.services.ingest import IngestService
from proxy import providers
from tests.integration.helpers import seeded_database

pytestmark = pytest.mark.integration

TENANT = "00000000-0000-4000-8000-0000000004a1"
AGENT = "00000000-0000-4000-8000-0000000004a2"
INSTANCE = "00000000-0000-4000-8000-0000000004a3"
CLAIMS = {"role": "authenticated", "sub": AGENT}
FIXTURES = Path(__file__).resolve().parents[2] / "proxy" / "providers" / "evolution" / "fixtures"


@pytest.fixture
def db(db_dsn: str) -> Iterator[Database]:
    with seeded_database(db_dsn, tenant_id=TENANT, user_id=AGENT, instance_id=INSTANCE, role="agent") as database:
        yield database


def inbound_conversation(db: Database) -> tuple[str, str]:
    payload = (FIXTURES / "messages.upsert__text-inbound-ios__01.json").read_text()
    (event,) = providers.normalize("evolution", json.loads(payload), instance="loja").events
    IngestService(PgIngestStore(db)).handle(
        IngestEnvelope(tenant_id=TENANT, instance_id=INSTANCE, received_at=datetime.now(UTC), event=event)
    )
    with db.as_service(TENANT) as conn:
        row = conn.execute("select id::text as id, contact_id::text as contact from public.conversations").fetchone()
    assert row is not None
    return row["id"], row["contact"]


def test_a_send_completed_while_its_echo_is_ingested_is_completed_anyway(db: Database, db_dsn: str) -> None:
    conversation, contact = inbound_conversation(db)
    store = PgSendStore(db)
    target = store.conversation_target(CLAIMS, conversation)
    assert target is not None
    draft = OutboxDraft(target=target, idempotency_key="race-0001-abcdef", request_hash="h", body="Chegou hoje!")
    record, created = store.begin(CLAIMS, draft)
    assert created
    outcome: dict[str, Any] = {}

    def complete() -> None:
        try:
            sent = SentMessage(provider_message_id="RACE01")
            outcome["record"] = store.complete(CLAIMS, record, sent, datetime.now(UTC))
        except Exception as exc:  # reported below
            outcome["error"] = exc

    # GIVEN the ingest (here: this connection) holds the contact, as find_or_create_contact does
    with psycopg.connect(db_dsn) as ingest:
        ingest.execute("set deadlock_timeout = '5s'")  # the completion is the one that detects the cycle
        ingest.execute("select 1 from public.contacts where id = %s for update", (contact,))
        # WHEN the send is completed meanwhile (it takes the conversation, then waits for the contact)
        worker = threading.Thread(target=complete)
        worker.start()
        worker.join(0.5)
        # AND the ingest then wants the conversation: a deadlock
        ingest.execute("update public.conversations set last_message_at = now() where id = %s", (conversation,))
        ingest.commit()
    worker.join(30)
    # THEN the completion was retried and the send is recorded as sent with its message
    assert "error" not in outcome, outcome.get("error")
    assert outcome["record"].status.value == "sent"
    with db.as_service(TENANT) as conn:
        stored = conn.execute("select provider_message_id from public.messages where direction = 'out'").fetchall()
    assert [r["provider_message_id"] for r in stored] == ["RACE01"]
