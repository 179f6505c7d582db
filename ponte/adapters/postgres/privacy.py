from __future__ import annotations

from collections.abc import Sequence

from ponte.adapters.postgres.db import Database
from ponte.domain.privacy import PrivacyPolicy
from ponte.ports.privacy import PrivacySettings, TenantPrivacy


class PgPrivacySettings(PrivacySettings):
    """Reads ``tenants.settings``: ``privacy`` (the intake policy) and ``hidden_contacts``."""

    def __init__(self, db: Database) -> None:
        self._db = db

    def policy(self, tenant_id: str) -> PrivacyPolicy:
        with self._db.as_service(tenant_id) as conn:
            row = conn.execute(
                "select coalesce(settings -> 'privacy', '{}'::jsonb) as p from public.tenants where id = %s",
                (tenant_id,),
            ).fetchone()
        return PrivacyPolicy.model_validate(row["p"] if row else {})

    def hidden_among(self, tenant_id: str, identities: Sequence[str]) -> frozenset[str]:
        if not identities:
            return frozenset()
        with self._db.as_service(tenant_id) as conn:
            rows = conn.execute(
                "select h from public.tenants t,"
                " jsonb_array_elements_text(coalesce(t.settings -> 'hidden_contacts', '[]'::jsonb)) h"
                " where t.id = %s and h = any(%s)",
                (tenant_id, list(identities)),
            ).fetchall()
        return frozenset(row["h"] for row in rows)

    def snapshot(self, tenant_id: str) -> TenantPrivacy:
        """The policy and the whole hidden list in one read (what a per-process cache keeps)."""
        with self._db.as_service(tenant_id) as conn:
            row = conn.execute(
                "select coalesce(settings -> 'privacy', '{}'::jsonb) as p,"
                " coalesce(settings -> 'hidden_contacts', '[]'::jsonb) as h from public.tenants where id = %s",
                (tenant_id,),
            ).fetchone()
        if row is None:
            return TenantPrivacy(PrivacyPolicy(), frozenset())
        hidden = row["h"] if isinstance(row["h"], list) else []
        return TenantPrivacy(PrivacyPolicy.model_validate(row["p"]), frozenset(str(h) for h in hidden))
