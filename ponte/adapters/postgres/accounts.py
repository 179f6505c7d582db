from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ponte.adapters.postgres.db import Database
from ponte.domain.accounts import Membership
from ponte.ports.accounts import MembershipReader


class PgMembershipReader(MembershipReader):
    def __init__(self, db: Database) -> None:
        self._db = db

    def memberships(self, claims: Mapping[str, Any]) -> list[Membership]:
        with self._db.as_user(claims) as conn:
            rows = conn.execute(
                "select m.tenant_id::text, t.name as tenant_name, m.role"
                " from public.memberships m join public.tenants t on t.id = m.tenant_id"
                " where m.user_id = (select auth.uid()) order by t.name"
            ).fetchall()
        return [Membership.model_validate(r) for r in rows]
