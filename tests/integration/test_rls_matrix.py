"""The RLS matrix (tests/integration/rls_matrix.py) as pgTAP assertions, driven from pytest.

pgTAP is installed by ``make pgtap`` (apt-get postgresql-<major>-pgtap, the major version
of the server binaries); the extension is created inside the test transaction, which is
rolled back, so the template database stays as the migrations leave it.
"""

from __future__ import annotations

import json

import psycopg
import pytest

from tests.integration.rls_matrix import ACTIONS, OPS, ROLES, TABLES, USERS, WORLD

pytestmark = pytest.mark.integration

# Runs ``sql`` as ``role`` with ``claims`` in a subtransaction that is always rolled back:
# 'allowed' when it touched at least one row, 'denied' when it touched none or was refused
# (42501: RLS "with check", a missing grant). Any other error fails the case.
ATTEMPT = """
create function pg_temp.attempt(p_role text, p_claims text, p_sql text) returns text
language plpgsql as $$
declare
  n bigint;
begin
  begin
    perform set_config('role', p_role, true);
    perform set_config('request.jwt.claims', p_claims, true);
    execute p_sql;
    get diagnostics n = row_count;
    raise exception using errcode = 'PT001', message = n::text;
  exception
    when insufficient_privilege then
      return 'denied';
    when sqlstate 'PT001' then
      return case when sqlerrm::bigint > 0 then 'allowed' else 'denied' end;
  end;
end;
$$;
"""


def role_and_claims(role: str) -> tuple[str, str]:
    if role in ("anon", "service_role"):
        return role, json.dumps({"role": role})
    return "authenticated", json.dumps({"sub": USERS[role], "role": "authenticated", "aud": "authenticated"})


def quote(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def cases() -> list[tuple[str, str, str, str, str]]:
    """(role, claims, sql, expected, description) for every table x role x operation, then every action."""
    out = []
    for table in TABLES:
        for role in ROLES:
            pg_role, claims = role_and_claims(role)
            for op in OPS:
                expected = "allowed" if table.may(role, op) else "denied"
                out.append((pg_role, claims, table.sql(op), expected, f"{role} {op} {table.name}: {expected}"))
    for action in ACTIONS:
        for role in ROLES:
            pg_role, claims = role_and_claims(role)
            expected = "allowed" if action.may(role) else "denied"
            out.append((pg_role, claims, action.sql, expected, f"{role} may {action.name}: {expected}"))
    return out


def test_rls_matrix(db_dsn: str) -> None:
    all_cases = cases()
    with psycopg.connect(db_dsn) as conn:
        available = conn.execute("select 1 from pg_available_extensions where name = 'pgtap'").fetchone()
        assert available, "pgTAP is not installed for this server: run `make pgtap`"
        conn.execute("create extension pgtap")
        conn.execute(WORLD)
        conn.execute(ATTEMPT)
        tap = [conn.execute("select plan(%s)", (len(all_cases),)).fetchone()[0]]  # type: ignore[index]
        for pg_role, claims, sql, expected, description in all_cases:
            row = conn.execute(
                f"select is(pg_temp.attempt(%s, %s, {quote(sql)}), %s, %s)",
                (pg_role, claims, expected, description),
            ).fetchone()
            tap.append(row[0])  # type: ignore[index]
        tap += [r[0] for r in conn.execute("select * from finish()")]
        conn.rollback()
    failures = [line for line in tap if line.startswith("not ok") or line.startswith("# Looks like")]
    assert tap[0] == f"1..{len(all_cases)}"
    assert sum(1 for line in tap if line.startswith("ok ")) == len(all_cases), "\n".join(tap)
    assert failures == []


def test_every_public_table_is_in_the_matrix(db_dsn: str) -> None:
    with psycopg.connect(db_dsn) as conn:
        tables = {
            r[0]
            for r in conn.execute(
                "select 'public.' || c.relname from pg_class c join pg_namespace n on n.oid = c.relnamespace"
                " where n.nspname = 'public' and c.relkind in ('r', 'p') and not c.relispartition"
            )
        }
    assert tables - {t.name for t in TABLES} == set(), "add a Table row to tests/integration/rls_matrix.py"
    assert {t.name for t in TABLES} - tables == set()


def test_matrix_size() -> None:
    assert len(cases()) == len(TABLES) * len(ROLES) * len(OPS) + len(ACTIONS) * len(ROLES)
