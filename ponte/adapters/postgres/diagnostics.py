from __future__ import annotations

from psycopg.types.json import Jsonb

from ponte.adapters.postgres.db import Database
from ponte.domain.diagnostics import DiagnosticsEntry
from ponte.domain.text import clean_json, clean_text
from ponte.ports.diagnostics import DiagnosticsLog


class PgDiagnosticsLog(DiagnosticsLog):
    def __init__(self, db: Database) -> None:
        self._db = db

    def record(self, entry: DiagnosticsEntry) -> None:
        with self._db.as_service(entry.tenant_id, pipeline=True) as conn:
            conn.execute(
                "insert into public.proxy_diagnostics"
                " (tenant_id, instance_id, route, event, outcome, status_code, latency_ms, error_code, detail)"
                " values (%s, %s, %s, %s, %s, %s, %s, %s, %s)",
                (
                    entry.tenant_id,
                    entry.instance_id,
                    clean_text(entry.route, 200),
                    clean_text(entry.event, 200) if entry.event else None,
                    clean_text(entry.outcome, 40),
                    entry.status_code,
                    entry.latency_ms,
                    clean_text(entry.error_code, 80) if entry.error_code else None,
                    Jsonb(clean_json(entry.detail)) if entry.detail is not None else None,
                ),
            )
