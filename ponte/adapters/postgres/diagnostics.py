from __future__ import annotations

from psycopg.types.json import Jsonb

from ponte.adapters.postgres.db import Database
from ponte.domain.diagnostics import DiagnosticsEntry
from ponte.ports.diagnostics import DiagnosticsLog


class PgDiagnosticsLog(DiagnosticsLog):
    def __init__(self, db: Database) -> None:
        self._db = db

    def record(self, entry: DiagnosticsEntry) -> None:
        with self._db.as_service(entry.tenant_id) as conn:
            conn.execute(
                "insert into public.proxy_diagnostics"
                " (tenant_id, instance_id, route, event, outcome, status_code, latency_ms, error_code, detail)"
                " values (%s, %s, %s, %s, %s, %s, %s, %s, %s)",
                (
                    entry.tenant_id,
                    entry.instance_id,
                    entry.route,
                    entry.event,
                    entry.outcome,
                    entry.status_code,
                    entry.latency_ms,
                    entry.error_code,
                    Jsonb(entry.detail) if entry.detail is not None else None,
                ),
            )
