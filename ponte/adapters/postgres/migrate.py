"""Apply the Supabase compatibility layer (when needed) and the project's migrations."""

from __future__ import annotations

from pathlib import Path

import psycopg

INFRA = Path(__file__).resolve().parents[3] / "infra" / "supabase"
COMPAT_DIR = INFRA / "compat"
MIGRATIONS_DIR = INFRA / "migrations"
SEED_FILE = INFRA / "seed.sql"


def needs_compat(conn: psycopg.Connection) -> bool:
    """Where Supabase's own objects are absent -- or the ones there are this compat layer's (its
    local realtime hooks exist): every file of it is idempotent, so a kept local database takes
    the layer's changes too."""
    row = conn.execute(
        "select to_regprocedure('auth.uid()') is null"
        " or to_regprocedure('realtime.local_sync_change_triggers()') is not null"
    ).fetchone()
    return bool(row and row[0])


def apply_compat(conn: psycopg.Connection) -> bool:
    """Apply the compatibility layer only where Supabase's own objects are absent (or are ours)."""
    if not needs_compat(conn):
        return False
    for path in sorted(COMPAT_DIR.glob("*.sql")):
        conn.execute(path.read_text())
    conn.commit()
    return True


def migration_files() -> list[Path]:
    return sorted(MIGRATIONS_DIR.glob("*.sql"))


def apply_migrations(conn: psycopg.Connection) -> list[str]:
    """Apply pending migrations in version order, recording them as the Supabase CLI does."""
    conn.execute("create schema if not exists supabase_migrations")
    conn.execute(
        "create table if not exists supabase_migrations.schema_migrations"
        " (version text primary key, statements text[], name text)"
    )
    conn.commit()
    done = {r[0] for r in conn.execute("select version from supabase_migrations.schema_migrations")}
    applied = []
    for path in migration_files():
        version, _, name = path.stem.partition("_")
        if version in done:
            continue
        with conn.transaction():
            conn.execute(path.read_text())
            conn.execute(
                "insert into supabase_migrations.schema_migrations (version, name) values (%s, %s)",
                (version, name),
            )
        applied.append(path.name)
    return applied


def migrate(dsn: str) -> list[str]:
    with psycopg.connect(dsn, autocommit=False) as conn:
        apply_compat(conn)
        return apply_migrations(conn)
