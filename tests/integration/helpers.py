"""Builders shared by the integration tests: canonical events, envelopes, SQS events."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from ponte.domain.envelope import IngestEnvelope
from ponte.domain.events import Direction, MessageEvent, MessageKind, Provider, Referral
from ponte.domain.identity import identity_from_jid


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
