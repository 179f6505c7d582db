"""Wiring shared by the composition roots (proxy, functions, CLI): built once per container."""

from __future__ import annotations

from ponte.adapters.postgres.accounts import PgMembershipReader
from ponte.adapters.postgres.db import Database
from ponte.adapters.postgres.privacy_admin import PgPrivacyAdmin, PgPurgeStore
from ponte.adapters.secrets import AUDIT_HASH_KEY, app_secret
from ponte.ports.secrets import SecretStore
from ponte.services.privacy import PrivacyService
from ponte.settings import Settings


def privacy_service(db: Database, settings: Settings, secrets: SecretStore | None) -> PrivacyService | None:
    """None without an audit key: privacy actions are refused rather than audited in clear."""
    key = app_secret(settings, secrets, AUDIT_HASH_KEY) or settings.audit_hash_key
    if not key:
        return None
    return PrivacyService(
        admin=PgPrivacyAdmin(db), purge=PgPurgeStore(db), memberships=PgMembershipReader(db), audit_key=key.encode()
    )
