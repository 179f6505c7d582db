"""Sends as the outbox records them: one row per idempotency key, written before the gateway call."""

from __future__ import annotations

import hashlib
import json
from datetime import datetime
from enum import StrEnum
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

from ponte.domain.feedback import SuggestionOutcome  # as_is / edited: what a send records
from ponte.domain.outbound import OutboundContent, OutboundKind, text_content

MAX_TEXT_CHARS = 4096
# who asked for a send: an agent, the automation (greeting, CSAT, ...) or a campaign
Origin = Literal["agent", "automatic", "campaign"]


class OutboxStatus(StrEnum):
    PENDING = "pending"  # written, the gateway call is under way (or its process died)
    SENT = "sent"  # the gateway gave a message id; the message row exists
    UNCONFIRMED = "unconfirmed"  # timeout / 5xx: the gateway may have sent it
    FAILED = "failed"  # definitely not sent (refused, not logged, unreachable)


class OutboxRecord(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str
    tenant_id: str
    instance_id: str
    conversation_id: str | None
    chat_key: str
    recipient: str
    idempotency_key: str
    request_hash: str
    body: str
    suggestion_id: str | None = None
    suggestion_outcome: SuggestionOutcome | None = None  # never discarded: that is no send
    status: OutboxStatus
    attempts: int
    provider_message_id: str | None = None
    message_id: str | None = None
    error_code: str | None = None
    created_at: datetime
    updated_at: datetime
    origin: Origin = "agent"
    automatic_kind: str | None = None
    kind: OutboundKind = OutboundKind.TEXT
    payload: dict[str, Any] | None = None  # a template, media, location...: OutboundContent less kind and text

    def content(self) -> OutboundContent:
        """What this row sends (validated again: the row is data, not code)."""
        if self.kind is OutboundKind.TEXT:
            return text_content(self.body)
        return OutboundContent.model_validate({**(self.payload or {}), "kind": self.kind})


def request_hash(*, target: str, text: str, suggestion_id: str | None, content: OutboundContent | None = None) -> str:
    """A key's fingerprint: the same key with another message is refused. A text hashes as it always did."""
    values: dict[str, Any] = {"target": target, "text": text, "suggestion_id": suggestion_id}
    if content is not None and content.kind is not OutboundKind.TEXT:
        values["content"] = content.model_dump(mode="json", exclude_none=True)
    canonical = json.dumps(values, sort_keys=True)
    return hashlib.sha256(canonical.encode()).hexdigest()


def same_text(a: str | None, b: str | None) -> bool:
    return a is not None and b is not None and a.strip() == b.strip()
