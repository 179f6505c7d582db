"""The rows ``OperationsCollector`` reads at scrape time, as the service (its queries filter tenants)."""

from __future__ import annotations

from typing import Any

from ponte.adapters.postgres.db import Database


class PgMetricsRows:
    def __init__(self, db: Database) -> None:
        self._db = db

    def __call__(self, sql: str, args: dict[str, Any]) -> list[dict[str, Any]]:
        with self._db.as_service(None) as conn:
            rows: list[dict[str, Any]] = conn.execute(sql, args).fetchall()
        return rows
