"""The suppression list and consent records: keyed hashes of numbers, never the numbers.

Replies and Meta's 131050 are recorded as the service; a person's opt-out or opt-in by hand under
their RLS (owners and admins), with their user id on the consent record.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import psycopg

from ponte.adapters.postgres.db import Database
from ponte.domain.campaigns.api import OptOutView
from ponte.ports.campaigns import Claims, OptOutStore

_VIEW = (
    "tenant_id::text, channel, phone_hash, source, campaign_id::text, opted_out_at, opted_in_at,"
    " opted_in_at is null as opted_out"
)


class PgOptOutStore(OptOutStore):
    def __init__(self, db: Database) -> None:
        self._db = db

    def _tx(self, tenant_id: str, actor: Claims | None) -> Any:
        return self._db.as_user(actor) if actor is not None else self._db.as_service(tenant_id)

    def opted_out(self, tenant_id: str, hashes: Sequence[str]) -> set[str]:
        if not hashes:
            return set()
        with self._db.as_service(tenant_id) as conn:
            rows = conn.execute(
                "select phone_hash from public.opt_outs where tenant_id = %s and channel = 'whatsapp'"
                " and phone_hash = any(%s) and opted_in_at is null",
                (tenant_id, list(hashes)),
            ).fetchall()
        return {r["phone_hash"] for r in rows}

    def opt_out(
        self,
        tenant_id: str,
        phone_hash: str,
        *,
        source: str,
        campaign_id: str | None = None,
        actor: Claims | None = None,
    ) -> bool:
        with self._tx(tenant_id, actor) as conn:
            row = conn.execute(
                "insert into public.opt_outs as o (tenant_id, phone_hash, source, campaign_id) values (%s, %s, %s, %s)"
                " on conflict (tenant_id, channel, phone_hash) do update set source = excluded.source,"
                " campaign_id = excluded.campaign_id, opted_out_at = now(), opted_in_at = null"
                " where o.opted_in_at is not null returning phone_hash",
                (tenant_id, phone_hash, source, campaign_id),
            ).fetchone()
            if row is None:
                return False
            _consent(conn, tenant_id, phone_hash, "opt_out", source, campaign_id=campaign_id)
        return True

    def opt_in(self, tenant_id: str, phone_hash: str, *, source: str, actor: Claims | None = None) -> bool:
        with self._tx(tenant_id, actor) as conn:
            row = conn.execute(
                "update public.opt_outs set opted_in_at = now() where tenant_id = %s and channel = 'whatsapp'"
                " and phone_hash = %s and opted_in_at is null returning phone_hash",
                (tenant_id, phone_hash),
            ).fetchone()
            if row is None:
                return False
            _consent(conn, tenant_id, phone_hash, "opt_in", source, campaign_id=None)
        return True

    def page(
        self, claims: Claims, tenant_id: str, *, before: tuple[datetime, str] | None, limit: int
    ) -> list[OptOutView]:
        at, key = before if before else (None, None)
        with self._db.as_user(claims) as conn:
            rows = conn.execute(
                f"select {_VIEW} from public.opt_outs where tenant_id = %s"
                " and (%s::timestamptz is null or (opted_out_at, phone_hash) < (%s::timestamptz, %s::text))"
                " order by opted_out_at desc, phone_hash desc limit %s",
                (tenant_id, at, at, key, limit),
            ).fetchall()
        return [OptOutView.model_validate(r) for r in rows]

    def find(self, claims: Claims, tenant_id: str, phone_hash: str) -> OptOutView | None:
        with self._db.as_user(claims) as conn:
            row = conn.execute(
                f"select {_VIEW} from public.opt_outs where tenant_id = %s and channel = 'whatsapp'"
                " and phone_hash = %s",
                (tenant_id, phone_hash),
            ).fetchone()
        return OptOutView.model_validate(row) if row else None


def _consent(
    conn: psycopg.Connection[Any], tenant_id: str, phone_hash: str, action: str, source: str, *, campaign_id: str | None
) -> None:
    conn.execute(
        "insert into public.consent_records (tenant_id, phone_hash, action, source, campaign_id, actor_user_id)"
        " values (%s, %s, %s, %s, %s, (select auth.uid()))",
        (tenant_id, phone_hash, action, source, campaign_id),
    )
