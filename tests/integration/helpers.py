"""Builders shared by the integration tests: a seeded database, canonical events, envelopes, SQS events."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime

import psycopg

from ponte.adapters.postgres.db import Database
from ponte.domain.envelope import IngestEnvelope
from ponte.domain.events import Direction, MessageEvent, MessageKind, Provider, Referral
from ponte.domain.identity import identity_from_jid
from ponte.localstack.seed import seed_tenant


@contextmanager
def seeded_database(
    db_dsn: str, *, tenant_id: str, user_id: str, instance_id: str, role: str = "owner"
) -> Iterator[Database]:
    """A tenant with one member and one WhatsApp instance, and a small pool onto the database."""
    with psycopg.connect(db_dsn) as conn:
        seed_tenant(
            conn,
            tenant_id=tenant_id,
            name="T",
            user_id=user_id,
            email=f"{role}-{user_id[-4:]}@t.local",
            role=role,
            instance_id=instance_id,
            webhook_secret="x",
        )
    database = Database(db_dsn, max_size=2)
    try:
        yield database
    finally:
        database.close()


def message(
    mid: str,
    *,
    jid: str = "5511987650001@s.whatsapp.net",
    text: str = "olá",
    direction: Direction = Direction.INBOUND,
    referral: Referral | None = None,
    at: datetime | None = None,
) -> MessageEvent:
    return MessageEvent(
        provider=Provider.EVOLUTION,
        instance="demo",
        provider_message_id=mid,
        direction=direction,
        chat=identity_from_jid(jid),
        kind=MessageKind.TEXT,
        text=text,
        occurred_at=at or datetime(2026, 1, 1, tzinfo=UTC),
        push_name="Cliente Teste" if direction is Direction.INBOUND else None,
        referral=referral,
    )


def envelope(tenant_id: str, instance_id: str, event: MessageEvent) -> IngestEnvelope:
    return IngestEnvelope(tenant_id=tenant_id, instance_id=instance_id, received_at=datetime.now(UTC), event=event)


def sqs_event(*bodies: str, queue: str = "ponte-ingest") -> dict[str, object]:
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
                "eventSourceARN": f"arn:aws:sqs:us-east-1:000000000000:{queue}",
                "awsRegion": "us-east-1",
            }
            for body in bodies
        ]
    }
