"""Keyset pages of the read routes: opaque cursors, limits and time filters from query strings."""

from __future__ import annotations

import base64
import binascii
import json
import uuid
from collections.abc import Mapping
from datetime import datetime

from ponte.services.exceptions import BadRequestError

Key = str | int


def encode_cursor(at: datetime, key: Key) -> str:
    raw = json.dumps({"t": at.isoformat(), "id": key}).encode()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def decode_cursor(cursor: str) -> tuple[datetime, Key]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        data = json.loads(raw)
        at, key = datetime.fromisoformat(data["t"]), data["id"]
    except (binascii.Error, ValueError, KeyError, TypeError) as exc:
        raise BadRequestError("cursor is not one this API gave", code="invalid_cursor") from exc
    if at.tzinfo is None or not isinstance(key, str | int) or isinstance(key, bool):
        raise BadRequestError("cursor is not one this API gave", code="invalid_cursor")
    return at, key


def page_limit(params: Mapping[str, str], *, default: int = 50, maximum: int = 100) -> int:
    try:
        limit = int(params.get("limit") or default)
    except ValueError as exc:
        raise BadRequestError("limit must be a number", code="invalid_limit") from exc
    if not 1 <= limit <= maximum:
        raise BadRequestError(f"limit must be 1 to {maximum}", code="invalid_limit")
    return limit


def time_param(params: Mapping[str, str], name: str) -> datetime | None:
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


def id_param(value: str | None, name: str) -> str | None:
    """A uuid from a path or query string, or 400 ``invalid_<name>`` (never a database error)."""
    if not value:
        return None
    try:
        return str(uuid.UUID(value))
    except ValueError as exc:
        raise BadRequestError(f"{name} is not an id", code=f"invalid_{name}") from exc


def choice_param(params: Mapping[str, str], name: str, choices: frozenset[str]) -> str | None:
    value = params.get(name) or None
    if value is not None and value not in choices:
        raise BadRequestError(f"{name} must be one of {', '.join(sorted(choices))}", code=f"invalid_{name}")
    return value
