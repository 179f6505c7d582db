"""A work queue's dead-letter queue, for admins: look at what died there, and send it back.

The DLQ is found from the source queue's own redrive policy (the CDK stack names DLQs itself),
so only the source queue's URL is configured. Message bodies are never printed: they hold
customers' messages (see ``DeadLetter``).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from ponte.domain.envelope import decode_envelopes

_PEEK_SECONDS = 30  # how long listed messages stay invisible before they are released again


@dataclass(frozen=True)
class DeadLetter:
    queue: str
    message_id: str
    sent_at: str
    receive_count: int
    envelopes: int  # 0 when the body is not an envelope array (then it is kept as it is)
    tenant_id: str | None
    bytes: int


class SqsDeadLetters:
    def __init__(self, client: Any, source_queue_url: str) -> None:
        self._client = client
        self._source = source_queue_url
        self._dlq_url: str | None = None

    @property
    def dlq_url(self) -> str | None:
        if self._dlq_url is None:
            attrs = self._client.get_queue_attributes(QueueUrl=self._source, AttributeNames=["RedrivePolicy"])
            policy = attrs.get("Attributes", {}).get("RedrivePolicy")
            if not policy:
                return None
            arn = json.loads(policy)["deadLetterTargetArn"]
            _, _, _, _, account, name = arn.split(":", 5)
            self._dlq_url = self._client.get_queue_url(QueueName=name, QueueOwnerAWSAccountId=account)["QueueUrl"]
        return self._dlq_url

    def peek(self, limit: int = 100) -> list[DeadLetter]:
        """Up to ``limit`` dead letters, left in the DLQ (visible again at once)."""
        messages = self._receive(limit)
        if messages:
            self._release(messages)
        return [self._describe(m) for m in messages]

    def redrive(self, limit: int = 100) -> list[DeadLetter]:
        """Sends up to ``limit`` dead letters back to the source queue, then deletes them from the DLQ."""
        messages = self._receive(limit)
        for start in range(0, len(messages), 10):
            chunk = messages[start : start + 10]
            sent = self._client.send_message_batch(
                QueueUrl=self._source,
                Entries=[{"Id": str(i), "MessageBody": m["Body"]} for i, m in enumerate(chunk)],
            )
            ok = {int(entry["Id"]) for entry in sent.get("Successful") or []}
            done = [m for i, m in enumerate(chunk) if i in ok]
            if done:
                self._client.delete_message_batch(
                    QueueUrl=self.dlq_url,
                    Entries=[{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(done)],
                )
            self._release([m for i, m in enumerate(chunk) if i not in ok])
        return [self._describe(m) for m in messages]

    def _receive(self, limit: int) -> list[dict[str, Any]]:
        if self.dlq_url is None:
            return []
        seen: dict[str, dict[str, Any]] = {}
        while len(seen) < limit:
            response = self._client.receive_message(
                QueueUrl=self.dlq_url,
                MaxNumberOfMessages=min(10, limit - len(seen)),
                VisibilityTimeout=_PEEK_SECONDS,
                WaitTimeSeconds=0,
                AttributeNames=["All"],
            )
            batch = response.get("Messages") or []
            if not batch:
                break
            seen.update((m["MessageId"], m) for m in batch)
        return list(seen.values())

    def _release(self, messages: list[dict[str, Any]]) -> None:
        for start in range(0, len(messages), 10):
            chunk = messages[start : start + 10]
            self._client.change_message_visibility_batch(
                QueueUrl=self.dlq_url,
                Entries=[
                    {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"], "VisibilityTimeout": 0}
                    for i, m in enumerate(chunk)
                ],
            )

    def _describe(self, message: dict[str, Any]) -> DeadLetter:
        attrs = message.get("Attributes") or {}
        body = message["Body"]
        try:
            envelopes = decode_envelopes(body)
        except ValueError:
            envelopes = []
        sent_ms = int(attrs.get("SentTimestamp", "0"))
        return DeadLetter(
            queue=(self.dlq_url or "").rsplit("/", 1)[-1],
            message_id=message["MessageId"],
            sent_at=datetime.fromtimestamp(sent_ms / 1000, tz=UTC).isoformat().replace("+00:00", "Z"),
            receive_count=int(attrs.get("ApproximateReceiveCount", "0")),
            envelopes=len(envelopes),
            tenant_id=envelopes[0].tenant_id if envelopes else None,
            bytes=len(body.encode()),
        )
