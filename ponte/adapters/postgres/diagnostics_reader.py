from __future__ import annotations

from datetime import datetime
from typing import Any

from ponte.adapters.postgres.db import Database
from ponte.ports.diagnostics_reader import Claims, DiagnosticsQuery, DiagnosticsReader


class PgDiagnosticsReader(DiagnosticsReader):
    def __init__(self, db: Database) -> None:
        self._db = db

    def page(self, claims: Claims, query: DiagnosticsQuery) -> list[dict[str, Any]]:
        where = ["true"]
        args: list[Any] = []
        if query.instance_id:
            where.append("instance_id = %s")
            args.append(query.instance_id)
        if query.outcome:
            where.append("outcome = %s")
            args.append(query.outcome)
        if query.since:
            where.append("occurred_at >= %s")
            args.append(query.since)
        if query.until:
            where.append("occurred_at < %s")
            args.append(query.until)
        if query.before:
            where.append("(occurred_at, id) < (%s, %s)")
            args.extend(query.before)
        args.append(query.limit + 1)
        with self._db.as_user(claims) as conn:
            rows: list[dict[str, Any]] = conn.execute(
                "select id, occurred_at, tenant_id::text, instance_id::text, route, event, outcome, status_code,"
                " latency_ms, error_code, detail from public.proxy_diagnostics"
                f" where {' and '.join(where)} order by occurred_at desc, id desc limit %s",
                args,
            ).fetchall()
        return rows

    def purge(self, older_than: datetime, batch: int = 5000) -> int:
        total = 0
        while True:
            with self._db.as_service() as conn:
                deleted = conn.execute(
                    "delete from public.proxy_diagnostics where id in (select id from public.proxy_diagnostics"
                    " where occurred_at < %s order by occurred_at limit %s)",
                    (older_than, batch),
                ).rowcount
            total += int(deleted)
            if deleted < batch:
                return total
