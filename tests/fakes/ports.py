"""In-memory fakes of the ports, for service tests."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

from ponte.domain.diagnostics import DiagnosticsEntry
from ponte.domain.envelope import IngestEnvelope
from ponte.domain.events import MessageEvent
from ponte.domain.instances import InstanceRecord
from ponte.domain.privacy import PrivacyPolicy
from ponte.ports.clock import Clock
from ponte.ports.diagnostics import DiagnosticsLog
from ponte.ports.instances import InstanceDirectory
from ponte.ports.privacy import PrivacySettings
from ponte.ports.queue import EventQueue
from ponte.ports.store import IngestStore, SavedMessage


class FakeInstances(InstanceDirectory):
    def __init__(self, *records: InstanceRecord) -> None:
        self.records = {r.id: r for r in records}

    def find(self, instance_id: str) -> InstanceRecord | None:
        return self.records.get(instance_id)


class FakeQueue(EventQueue):
    def __init__(self, *, fail: bool = False) -> None:
        self.published: list[IngestEnvelope] = []
        self.fail = fail

    def publish(self, envelopes: Sequence[IngestEnvelope]) -> None:
        if self.fail:
            raise ConnectionError("queue down")
        self.published.extend(envelopes)


class FakeDiagnostics(DiagnosticsLog):
    def __init__(self) -> None:
        self.entries: list[DiagnosticsEntry] = []

    def record(self, entry: DiagnosticsEntry) -> None:
        self.entries.append(entry)


class FakePrivacy(PrivacySettings):
    def __init__(self, hidden: Sequence[str] = (), policy: PrivacyPolicy | None = None) -> None:
        self.hidden = set(hidden)
        self._policy = policy or PrivacyPolicy()

    def policy(self, tenant_id: str) -> PrivacyPolicy:
        return self._policy

    def is_hidden(self, tenant_id: str, identities: Sequence[str]) -> bool:
        return bool(self.hidden.intersection(identities))


class FakeStore(IngestStore):
    def __init__(self) -> None:
        self.messages: dict[tuple[str, str, str, str, str], MessageEvent] = {}

    def save_message(self, tenant_id: str, instance_id: str, event: MessageEvent) -> SavedMessage:
        key = event.dedupe_key(tenant_id)
        if key in self.messages:
            return SavedMessage(stored=False)
        self.messages[key] = event
        inbound_text = event.direction.value == "in" and bool(event.text)
        return SavedMessage(stored=True, message_id=f"m{len(self.messages)}", needs_analysis=inbound_text)


class FakeClock(Clock):
    def __init__(self, start: datetime | None = None) -> None:
        self._now = start or datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
        self._mono = 1000.0

    def now(self) -> datetime:
        return self._now

    def monotonic(self) -> float:
        return self._mono

    def advance(self, seconds: float) -> None:
        self._now += timedelta(seconds=seconds)
        self._mono += seconds
