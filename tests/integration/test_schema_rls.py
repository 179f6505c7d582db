"""Every table in public has row-level security and at least one policy."""

from __future__ import annotations

import psycopg
import pytest

pytestmark = pytest.mark.integration


def test_every_public_table_has_rls_and_a_policy(db_dsn: str) -> None:
    with psycopg.connect(db_dsn) as conn:
        rows = conn.execute(
            "select c.relname, c.relrowsecurity,"
            " (select count(*) from pg_policies p where p.schemaname = 'public' and p.tablename = c.relname)"
            " from pg_class c join pg_namespace n on n.oid = c.relnamespace"
            " where n.nspname = 'public' and c.relkind in ('r', 'p')"
        ).fetchall()
    assert rows, "no tables in public"
    without_rls = [name for name, rls, _ in rows if not rls]
    without_policy = [name for name, _, policies in rows if policies == 0]
    assert without_rls == []
    assert without_policy == []


def test_compat_layer_is_never_applied_over_supabases_own_and_reapplied_over_its_own(db_dsn: str) -> None:
    from ponte.adapters.postgres.migrate import apply_compat, needs_compat

    with psycopg.connect(db_dsn) as conn:
        # a kept local database: the layer is ours, and applying it again changes nothing else
        assert needs_compat(conn) is True
        assert apply_compat(conn) is True
        assert apply_compat(conn) is True
        # Supabase: auth exists and the local realtime hooks do not
        conn.execute("drop function realtime.local_sync_change_triggers()")
        assert needs_compat(conn) is False
        assert apply_compat(conn) is False


def test_auth_functions_follow_supabase_semantics(db_dsn: str) -> None:
    with psycopg.connect(db_dsn) as conn:
        conn.execute(
            "select set_config('request.jwt.claims', %s, true)",
            ('{"sub":"00000000-0000-4000-8000-000000000001","role":"authenticated","email":"a@b.c"}',),
        )
        row = conn.execute("select auth.uid()::text, auth.role(), auth.email(), auth.jwt() ->> 'role'").fetchone()
        assert row == (
            "00000000-0000-4000-8000-000000000001",
            "authenticated",
            "a@b.c",
            "authenticated",
        )
        conn.rollback()
        # a GUC defined earlier in the session reads back as '' and must give NULL, not an error
        assert conn.execute("select auth.uid()").fetchone() == (None,)
