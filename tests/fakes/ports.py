"""In-memory fakes of the ports, for service tests."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta

from ponte.domain.diagnostics import DiagnosticsEntry
from ponte.domain.envelope import IngestEnvelope
from ponte.domain.events import ContactsEvent, ContactUpdate, MessageEvent, StatusEvent
from ponte.domain.instances import InstanceRecord
from ponte.domain.privacy import PrivacyPolicy
from ponte.domain.quarantine import QuarantinedPayload, QuarantineEntry
from ponte.ports.clock import Clock
from ponte.ports.diagnostics import DiagnosticsLog
from ponte.ports.instances import InstanceDirectory
from ponte.ports.privacy import PrivacySettings
from ponte.ports.quarantine import QuarantineStore
from ponte.ports.queue import EventQueue
from ponte.ports.secrets import SecretNotFoundError, SecretStore
from ponte.ports.store import IngestStore, SavedMessage


class FakeInstances(InstanceDirectory):
    def __init__(self, *records: InstanceRecord) -> None:
        self.records = {r.id: r for r in records}

    def find(self, instance_id: str) -> InstanceRecord | None:
        return self.records.get(instance_id)

    def find_by_gateway(self, tenant_id: str, provider: str, gateway_instance: str) -> InstanceRecord | None:
        return next(
            (
                r
                for r in self.records.values()
                if (r.tenant_id, r.provider.value, r.gateway_instance) == (tenant_id, provider, gateway_instance)
            ),
            None,
        )


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
        self.lookups = 0
        self._policy = policy or PrivacyPolicy()

    def policy(self, tenant_id: str) -> PrivacyPolicy:
        return self._policy

    def hidden_among(self, tenant_id: str, identities: Sequence[str]) -> frozenset[str]:
        self.lookups += 1
        return frozenset(self.hidden.intersection(identities))


class FakeStore(IngestStore):
    def __init__(self) -> None:
        self.messages: dict[tuple[str, str, str, str, str], MessageEvent] = {}
        self.statuses: list[StatusEvent] = []
        self.contacts: list[ContactUpdate] = []

    def save_message(self, tenant_id: str, instance_id: str, event: MessageEvent) -> SavedMessage:
        key = event.dedupe_key(tenant_id)
        if key in self.messages:
            return SavedMessage(stored=False)
        self.messages[key] = event
        inbound_text = event.direction.value == "in" and bool(event.text)
        return SavedMessage(stored=True, message_id=f"m{len(self.messages)}", needs_analysis=inbound_text)

    def save_status(self, tenant_id: str, instance_id: str, event: StatusEvent) -> bool:
        self.statuses.append(event)
        return any(m.provider_message_id == event.provider_message_id for m in self.messages.values())

    def save_contacts(self, tenant_id: str, event: ContactsEvent) -> int:
        self.contacts.extend(event.contacts)
        return len(event.contacts)

    def expire_pending(self, max_age: timedelta) -> dict[str, int]:
        return {}  # this fake parks nothing


class FakeQuarantine(QuarantineStore):
    def __init__(self, *, fail: bool = False) -> None:
        self.entries: list[QuarantineEntry] = []
        self.replayed: dict[int, tuple[str, str | None]] = {}
        self.fail = fail

    def put(self, entry: QuarantineEntry) -> None:
        if self.fail:
            raise ConnectionError("database down")
        self.entries.append(entry)

    def pending(self, *, tenant_id: str | None = None, limit: int = 100) -> list[QuarantinedPayload]:
        return [
            QuarantinedPayload(
                id=i,
                tenant_id=e.tenant_id,
                instance_id=e.instance_id,
                provider=e.provider,
                reason_code=e.reason_code,
                raw_payload=e.raw_payload,
                truncated=e.truncated,
                received_at=datetime(2026, 11, 23, tzinfo=UTC),
            )
            for i, e in enumerate(self.entries)
            if i not in self.replayed and (tenant_id is None or e.tenant_id == tenant_id)
        ][:limit]

    def mark_replayed(self, entry_id: int, outcome: str, reason: str | None) -> None:
        self.replayed[entry_id] = (outcome, reason)


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


class FakeSecrets(SecretStore):
    def __init__(self, values: dict[str, dict[str, str]] | None = None) -> None:
        self.values = values or {}

    def get(self, name: str) -> Mapping[str, str]:
        if name not in self.values:
            raise SecretNotFoundError(name)
        return self.values[name]
