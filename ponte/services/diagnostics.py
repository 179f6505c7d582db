"""The diagnostics log as admins read it: filters, keyset pagination, retention."""

from __future__ import annotations

import base64
import binascii
import json
import uuid
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from ponte.ports.clock import Clock
from ponte.ports.diagnostics_reader import DiagnosticsQuery, DiagnosticsReader
from ponte.services.exceptions import BadRequestError

Claims = Mapping[str, Any]
MAX_LIMIT = 200


def encode_cursor(occurred_at: datetime, row_id: int) -> str:
    raw = json.dumps({"t": occurred_at.isoformat(), "id": row_id}).encode()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def decode_cursor(cursor: str) -> tuple[datetime, int]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        data = json.loads(raw)
        return datetime.fromisoformat(data["t"]), int(data["id"])
    except (binascii.Error, ValueError, KeyError, TypeError) as exc:
        raise BadRequestError("cursor is not one this API gave", code="invalid_cursor") from exc


def _time(params: Mapping[str, str], name: str) -> datetime | None:
    value = params.get(name)
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError as exc:
        raise BadRequestError(f"{name} must be an ISO 8601 time", code="invalid_time") from exc
    if parsed.tzinfo is None:
        raise BadRequestError(f"{name} must carry a time zone", code="invalid_time")
    return parsed


class DiagnosticsService:
    def __init__(self, reader: DiagnosticsReader, *, clock: Clock | None = None, retention_days: int = 30) -> None:
        self._reader = reader
        self._clock = clock or Clock()
        self._retention = timedelta(days=retention_days)

    def list(self, claims: Claims, params: Mapping[str, str]) -> dict[str, Any]:
        instance_id = params.get("instance_id") or None
        if instance_id is not None:
            try:
                uuid.UUID(instance_id)
            except ValueError as exc:
                raise BadRequestError("instance_id is not an id", code="invalid_instance_id") from exc
        outcome = params.get("outcome") or None
        if outcome is not None and (len(outcome) > 40 or not outcome.replace("_", "").isalnum()):
            raise BadRequestError("outcome is not an outcome", code="invalid_outcome")
        try:
            limit = int(params.get("limit") or 50)
        except ValueError as exc:
            raise BadRequestError("limit must be a number", code="invalid_limit") from exc
        if not 1 <= limit <= MAX_LIMIT:
            raise BadRequestError(f"limit must be 1 to {MAX_LIMIT}", code="invalid_limit")
        cursor = params.get("cursor")
        query = DiagnosticsQuery(
            instance_id=instance_id,
            outcome=outcome,
            since=_time(params, "since"),
            until=_time(params, "until"),
            before=decode_cursor(cursor) if cursor else None,
            limit=limit,
        )
        rows = self._reader.page(claims, query)
        more = len(rows) > limit
        rows = rows[:limit]
        next_cursor = encode_cursor(rows[-1]["occurred_at"], rows[-1]["id"]) if more and rows else None
        return {"items": rows, "next_cursor": next_cursor}

    def purge(self) -> int:
        return self._reader.purge(self._clock.now() - self._retention)
