"""Wiring shared by the composition roots (proxy, functions, CLI): built once per container."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ponte.adapters.postgres.accounts import PgMembershipReader
from ponte.adapters.postgres.db import Database
from ponte.adapters.postgres.privacy_admin import PgPrivacyAdmin, PgPurgeStore
from ponte.adapters.secrets import AUDIT_HASH_KEY, app_secret
from ponte.adapters.sqs import SqsEventQueue
from ponte.ports.queue import EventQueue
from ponte.ports.secrets import SecretStore
from ponte.services.lanes import IngestLanes
from ponte.services.privacy import PrivacyService
from ponte.settings import Settings


def privacy_service(
    db: Database,
    settings: Settings,
    secrets: SecretStore | None,
    on_change: Callable[[str], None] | None = None,
) -> PrivacyService | None:
    """None without an audit key: privacy actions are refused rather than audited in clear."""
    key = app_secret(settings, secrets, AUDIT_HASH_KEY) or settings.audit_hash_key
    if not key:
        return None
    return PrivacyService(
        admin=PgPrivacyAdmin(db),
        purge=PgPurgeStore(db),
        memberships=PgMembershipReader(db),
        audit_key=key.encode(),
        on_change=on_change,
    )


def ingest_queue(settings: Settings, client: Any | None = None) -> EventQueue:
    """The webhook's hand-over to ingest: the live queue, and the bulk lane when it is configured."""
    if not settings.ingest_queue_url:
        raise RuntimeError("PONTE_INGEST_QUEUE_URL is not set")
    bulk = settings.ingest_bulk_queue_url
    return IngestLanes(SqsEventQueue(settings.ingest_queue_url, client), SqsEventQueue(bulk, client) if bulk else None)
