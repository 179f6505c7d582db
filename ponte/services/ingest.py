"""Ingest: store canonical events idempotently (contact, conversation, message)."""

from __future__ import annotations

from dataclasses import dataclass

from ponte.domain.envelope import IngestEnvelope
from ponte.domain.events import MessageEvent
from ponte.ports.store import IngestStore


@dataclass(frozen=True)
class IngestResult:
    stored: bool
    kind: str


class IngestService:
    def __init__(self, store: IngestStore) -> None:
        self._store = store

    def handle(self, envelope: IngestEnvelope) -> IngestResult:
        event = envelope.event
        if isinstance(event, MessageEvent):
            stored = self._store.save_message(envelope.tenant_id, envelope.instance_id, event)
            return IngestResult(stored=stored, kind=event.type)
        self._store.save_other(envelope)
        return IngestResult(stored=False, kind=event.type)
