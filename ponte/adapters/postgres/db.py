"""PostgreSQL access the PostgREST way: one transaction per unit of work, role and
JWT claims set with ``set_config(..., true)`` so nothing leaks to the next user of a
pooled connection."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any, TypeVar

import psycopg
from psycopg.rows import dict_row
from psycopg_pool import ConnectionPool

_T = TypeVar("_T")
_RETRYABLE = (psycopg.errors.DeadlockDetected, psycopg.errors.SerializationFailure)


def retry_transaction(unit: Callable[[], _T], *, attempts: int = 3) -> _T:
    """Run ``unit`` (one whole transaction) again when PostgreSQL aborted it as a deadlock victim or
    a serialization failure: the abort rolled everything back, so running it again is safe. Writers
    that take the same rows in different orders (a send being completed while the ingest stores its
    echo) can deadlock; one of them is chosen to fail, and this is how it succeeds anyway."""
    for attempt in range(1, attempts + 1):
        try:
            return unit()
        except _RETRYABLE:
            if attempt == attempts:
                raise
    raise AssertionError("unreachable")


_IMPERSONATE = (
    "select set_config('role', %s, true), set_config('request.jwt.claims', %s, true),"
    " set_config('search_path', 'public, extensions', true)"
)


class Database:
    def __init__(self, dsn: str, *, min_size: int = 1, max_size: int = 8) -> None:
        self._pool = ConnectionPool(
            dsn,
            min_size=min_size,
            max_size=max_size,
            open=True,
            kwargs={"autocommit": False, "row_factory": dict_row},
            name="ponte",
        )

    def close(self) -> None:
        self._pool.close()

    @contextmanager
    def transaction(
        self, role: str, claims: Mapping[str, Any], *, pipeline: bool = False
    ) -> Iterator[psycopg.Connection[Any]]:
        """One transaction as ``role`` with ``claims``; committed on success, rolled back on error.
        ``pipeline``: for writes whose results nobody reads (a log row), the statements and the
        commit go out together -- one round trip instead of one per statement."""
        with self._pool.connection() as conn:
            if pipeline:
                with conn.pipeline():
                    conn.execute(_IMPERSONATE, (role, json.dumps({**claims, "role": role})))
                    yield conn
                return
            conn.execute(_IMPERSONATE, (role, json.dumps({**claims, "role": role})))
            yield conn

    def as_user(self, claims: Mapping[str, Any]) -> Any:
        role = str(claims.get("role") or "anon")
        if role not in {"anon", "authenticated"}:
            raise ValueError("user transactions run as anon or authenticated")
        return self.transaction(role, claims)

    def as_service(self, tenant_id: str | None = None, *, pipeline: bool = False) -> Any:
        claims: dict[str, Any] = {"role": "service_role"}
        if tenant_id:
            claims["tenant_id"] = tenant_id
        return self.transaction("service_role", claims, pipeline=pipeline)
