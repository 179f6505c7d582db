"""postgres_changes: bindings, their filters, and rows re-read under each subscriber's RLS.

A trigger (``realtime.local_notify_change``) announces each committed change by primary
key; the server reads the row back once per distinct set of claims, as that role, so
a subscriber receives only what its own SELECT would return, as upstream's
``apply_rls`` does. DELETEs carry the primary key only and are not RLS-checked
(upstream behaves the same way).
"""

from __future__ import annotations

import json
import re
import zlib
from dataclasses import dataclass, field
from typing import Any

from psycopg import sql
from psycopg_pool import AsyncConnectionPool

from ponte.localstack.realtime.authorization import impersonation_params

EVENTS = ("INSERT", "UPDATE", "DELETE", "*")
_FILTER = re.compile(r"^(?P<column>[^=]+)=(?P<op>eq|neq|lt|lte|gt|gte|in)\.(?P<value>.*)$", re.DOTALL)


class BindingError(ValueError):
    """A postgres_changes binding the server cannot honour."""


@dataclass(frozen=True)
class Filter:
    column: str
    op: str
    value: str

    @classmethod
    def parse(cls, text: str) -> Filter:
        match = _FILTER.match(text)
        if not match:
            raise BindingError(f"invalid filter {text!r} (expected column=op.value with eq|neq|lt|lte|gt|gte|in)")
        return cls(match["column"].strip(), match["op"], match["value"])

    def matches(self, record: dict[str, Any]) -> bool:
        if self.column not in record:
            return False
        actual = record[self.column]
        if self.op == "in":
            options = [v.strip().strip('"') for v in self.value.strip("()").split(",")]
            return any(_compare(actual, option) == 0 for option in options)
        order = _compare(actual, self.value)
        if order is None:
            return self.op == "neq"
        return {
            "eq": order == 0,
            "neq": order != 0,
            "lt": order < 0,
            "lte": order <= 0,
            "gt": order > 0,
            "gte": order >= 0,
        }[self.op]


def _compare(actual: Any, expected: str) -> int | None:
    """-1/0/1 comparing a JSON value of the row with the filter's text; None when incomparable (null)."""
    if actual is None:
        return None
    if isinstance(actual, bool):
        left: Any = actual
        right: Any = expected.lower() == "true"
    elif isinstance(actual, int | float):
        try:
            left, right = float(actual), float(expected)
        except ValueError:
            return None
    else:
        left, right = str(actual) if not isinstance(actual, dict | list) else json.dumps(actual), expected
    return int(left > right) - int(left < right)


@dataclass
class Binding:
    """One ``config.postgres_changes`` entry of a join, echoed back with a server id."""

    params: dict[str, Any]
    event: str
    schema: str
    table: str | None
    filter: Filter | None
    id: int

    @classmethod
    def from_params(cls, params: dict[str, Any]) -> Binding:
        event = str(params.get("event") or "*").upper()
        if event not in EVENTS:
            raise BindingError(f"invalid event {params.get('event')!r}")
        raw_filter = params.get("filter")
        # Any stable int works; upstream uses :erlang.phash2(params).
        ident = zlib.crc32(json.dumps(params, sort_keys=True, default=str).encode()) & 0x7FFFFFF
        return cls(
            params=params,
            event=event,
            schema=str(params.get("schema") or "public"),
            table=params.get("table") or None,
            filter=Filter.parse(raw_filter) if raw_filter else None,
            id=ident,
        )

    def echo(self) -> dict[str, Any]:
        return {**self.params, "id": self.id}

    def covers(self, schema: str, table: str, op: str) -> bool:
        return self.schema in (schema, "*") and self.table in (table, "*", None) and self.event in (op, "*")


@dataclass(frozen=True)
class Change:
    schema: str
    table: str
    type: str
    pk: dict[str, Any] | None
    old_pk: dict[str, Any] | None
    commit_timestamp: str

    @classmethod
    def from_note(cls, text: str) -> Change:
        note = json.loads(text)
        return cls(note["schema"], note["table"], note["type"], note["pk"], note["old_pk"], note["commit_timestamp"])


@dataclass
class Columns:
    """Columns each role may SELECT, per table (cached: privileges change only with migrations)."""

    _cache: dict[tuple[str, str, str], list[dict[str, str]]] = field(default_factory=dict)

    async def of(self, pool: AsyncConnectionPool[Any], schema: str, table: str, role: str) -> list[dict[str, str]]:
        key = (schema, table, role)
        if key not in self._cache:
            async with pool.connection() as conn:
                cur = await conn.execute(
                    "select a.attname, t.typname from pg_attribute a join pg_type t on t.oid = a.atttypid"
                    " where a.attrelid = format('%%I.%%I', %s::text, %s::text)::regclass"
                    " and a.attnum > 0 and not a.attisdropped"
                    " and has_column_privilege(%s, a.attrelid, a.attnum, 'SELECT') order by a.attnum",
                    (schema, table, role),
                )
                self._cache[key] = [{"name": name, "type": typ} for name, typ in await cur.fetchall()]
        return self._cache[key]


async def read_as(
    pool: AsyncConnectionPool[Any],
    change: Change,
    claims: dict[str, Any],
    columns: list[dict[str, str]],
) -> dict[str, Any] | None:
    """The changed row as ``claims`` sees it through RLS, or None when invisible to them."""
    if not change.pk or not columns:
        return None
    query = sql.SQL("select to_jsonb(r) from (select {cols} from {rel} where {cond}) r").format(
        cols=sql.SQL(", ").join(sql.Identifier(c["name"]) for c in columns),
        rel=sql.Identifier(change.schema, change.table),
        cond=sql.SQL(" and ").join(
            sql.SQL("{} = {}").format(sql.Identifier(k), sql.Literal(_as_text(v))) for k, v in change.pk.items()
        ),
    )
    async with pool.connection() as conn, conn.transaction(force_rollback=True):
        await conn.execute(
            "select set_config('role', %(role)s, true), set_config('request.jwt.claims', %(claims)s, true),"
            " set_config('request.jwt.claim.sub', %(sub)s, true), set_config('request.jwt.claim.role', %(role)s, true)",
            impersonation_params(claims),
        )
        row = await (await conn.execute(query)).fetchone()
    return row[0] if row else None


def _as_text(value: Any) -> str:
    """A key value as an untyped literal, so PostgreSQL reads it as the column's type (and uses its index)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return value if isinstance(value, str) else json.dumps(value)
