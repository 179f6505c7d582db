"""Cloud API statuses on real PostgreSQL: they arrive out of order, so a message's status only moves
forward (``read`` with no ``delivered`` is fine), a failure is final (a ``delivered`` arriving after
``failed`` is older news) and keeps Meta's error code as a machine code -- also when the statuses
overtook their message."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from ponte.adapters.postgres.db import Database
from ponte.adapters.postgres.ingest_store import PgIngestStore
from ponte.domain.envelope import IngestEnvelope
from ponte.domain.events import CanonicalEvent, Direction, MessageEvent, MessageKind, Provider
from ponte.domain.identity import cloud_identity
from ponte.services.ingest import IngestService
from proxy import providers
from tests.integration.helpers import seeded_database

pytestmark = pytest.mark.integration

TENANT = "00000000-0000-4000-8000-0000000004c1"
USER = "00000000-0000-4000-8000-0000000004c2"
INSTANCE = "00000000-0000-4000-8000-0000000004c3"
FIXTURES = Path(__file__).resolve().parents[2] / "proxy" / "providers" / "cloud" / "fixtures"
NUMBER = "1122334455667"


@pytest.fixture
def db(db_dsn: str) -> Iterator[Database]:
    with seeded_database(db_dsn, tenant_id=TENANT, user_id=USER, instance_id=INSTANCE) as database:
        yield database


def statuses(name: str) -> tuple[CanonicalEvent, ...]:
    result = providers.normalize("cloud", json.loads((FIXTURES / f"{name}.json").read_text()), instance=NUMBER)
    assert result.outcome.value == "accepted", result
    return result.events


def sent(provider_message_id: str) -> MessageEvent:
    identity = cloud_identity("553188880001", None, NUMBER)
    assert identity is not None
    return MessageEvent(
        provider=Provider.CLOUD,
        instance=NUMBER,
        provider_message_id=provider_message_id,
        direction=Direction.OUTBOUND,
        chat=identity,
        kind=MessageKind.TEXT,
        text="Seu pedido saiu para entrega",
        occurred_at=datetime(2026, 5, 1, tzinfo=UTC),
    )


def ingest(db: Database, *events: CanonicalEvent) -> None:
    service = IngestService(PgIngestStore(db))
    for event in events:
        service.handle(
            IngestEnvelope(tenant_id=TENANT, instance_id=INSTANCE, received_at=datetime.now(UTC), event=event)
        )


def status_of(db: Database, provider_message_id: str) -> dict[str, Any]:
    with db.as_service(TENANT) as conn:
        row = conn.execute(
            "select status, status_error from public.messages where provider_message_id = %s", (provider_message_id,)
        ).fetchone()
    assert row is not None
    return dict(row)


def test_delivered_after_failed_leaves_the_failure_and_its_code(db: Database) -> None:
    events = statuses("statuses__failed-then-delivered-out-of-order-constructed__01")
    message_id = events[0].provider_message_id  # type: ignore[union-attr]
    ingest(db, sent(message_id))
    # WHEN failed (131026) then an older delivered arrive
    ingest(db, *events)
    # THEN the message stays failed, with Meta's code as a machine code
    assert status_of(db, message_id) == {"status": "error", "status_error": "undeliverable"}


def test_statuses_that_overtook_their_message_apply_when_it_is_stored(db: Database) -> None:
    failed = statuses("statuses__failed-131047-outside-window-constructed__01")
    message_id = failed[0].provider_message_id  # type: ignore[union-attr]
    read = [e.model_copy(update={"provider_message_id": message_id}) for e in statuses("statuses__read__01")]
    # GIVEN a failure and a read arrive before the message they describe
    ingest(db, *failed, *read)
    # WHEN the message is stored THEN the failure wins, with its code
    ingest(db, sent(message_id))
    assert status_of(db, message_id) == {"status": "error", "status_error": "outside_service_window"}


def test_read_with_no_delivered_moves_forward_and_nothing_moves_back(db: Database) -> None:
    (read,) = statuses("statuses__read__01")
    ingest(db, sent(read.provider_message_id))  # type: ignore[union-attr]
    ingest(db, read, *statuses("statuses__sent-bsuid__01"), *statuses("statuses__delivered__01"))
    assert status_of(db, read.provider_message_id) == {"status": "read", "status_error": None}  # type: ignore[union-attr]
