"""The diagnostics log as admins read it: filters, keyset pagination, retention."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from ponte.ports.clock import Clock
from ponte.ports.diagnostics_reader import DiagnosticsQuery, DiagnosticsReader
from ponte.services.exceptions import BadRequestError
from ponte.services.paging import Key, decode_cursor, encode_cursor, id_param, page_limit, time_param

Claims = Mapping[str, Any]
MAX_LIMIT = 200


class DiagnosticsService:
    def __init__(self, reader: DiagnosticsReader, *, clock: Clock | None = None, retention_days: int = 30) -> None:
        self._reader = reader
        self._clock = clock or Clock()
        self._retention = timedelta(days=retention_days)

    def list(self, claims: Claims, params: Mapping[str, str]) -> dict[str, Any]:
        instance_id = id_param(params.get("instance_id"), "instance_id")
        outcome = params.get("outcome") or None
        if outcome is not None and (len(outcome) > 40 or not outcome.replace("_", "").isalnum()):
            raise BadRequestError("outcome is not an outcome", code="invalid_outcome")
        limit = page_limit(params, maximum=MAX_LIMIT)
        cursor = params.get("cursor")
        query = DiagnosticsQuery(
            instance_id=instance_id,
            outcome=outcome,
            since=time_param(params, "since"),
            until=time_param(params, "until"),
            before=_int_key(decode_cursor(cursor)) if cursor else None,
            limit=limit,
        )
        rows = self._reader.page(claims, query)
        more = len(rows) > limit
        rows = rows[:limit]
        next_cursor = encode_cursor(rows[-1]["occurred_at"], rows[-1]["id"]) if more and rows else None
        return {"items": rows, "next_cursor": next_cursor}

    def purge(self) -> int:
        return self._reader.purge(self._clock.now() - self._retention)


def _int_key(cursor: tuple[datetime, Key]) -> tuple[datetime, int]:
    at, key = cursor
    if not isinstance(key, int):
        raise BadRequestError("cursor is not one this API gave", code="invalid_cursor")
    return at, key
