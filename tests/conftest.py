"""Shared fixtures: a real PostgreSQL (started from the system binaries, or DATABASE_URL),
a template database with the compat layer and migrations, and a fresh database per test."""

from __future__ import annotations

import itertools
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from ponte.adapters.postgres.migrate import migrate
from ponte.localstack.pgcluster import PgCluster

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"
TEMPLATE_DB = "ponte_template"
_db_counter = itertools.count()


def _with_db(dsn: str, dbname: str) -> str:
    return psycopg.conninfo.make_conninfo(dsn, dbname=dbname)


@pytest.fixture(scope="session")
def pg_admin_dsn() -> Iterator[str]:
    """A superuser DSN on a real PostgreSQL server."""
    external = os.environ.get("TEST_DATABASE_URL") or os.environ.get("DATABASE_URL")
    if external:
        yield external
        return
    tmp = Path(tempfile.mkdtemp(prefix="ponte-pg-"))
    cluster = PgCluster(tmp / "data", fsync=False).start()
    try:
        yield cluster.url
    finally:
        cluster.stop()


@pytest.fixture(scope="session")
def template_dsn(pg_admin_dsn: str) -> str:
    with psycopg.connect(pg_admin_dsn, autocommit=True) as conn:
        conn.execute(f"drop database if exists {TEMPLATE_DB}")
        conn.execute(f"create database {TEMPLATE_DB}")
    dsn = _with_db(pg_admin_dsn, TEMPLATE_DB)
    migrate(dsn)
    return dsn


@pytest.fixture
def db_dsn(pg_admin_dsn: str, template_dsn: str) -> Iterator[str]:
    """A fresh database cloned from the migrated template, dropped afterwards."""
    name = f"ponte_test_{os.getpid()}_{next(_db_counter)}"
    with psycopg.connect(pg_admin_dsn, autocommit=True) as conn:
        conn.execute(f"create database {name} template {TEMPLATE_DB}")
    try:
        yield _with_db(pg_admin_dsn, name)
    finally:
        with psycopg.connect(pg_admin_dsn, autocommit=True) as conn:
            conn.execute(f"drop database if exists {name} with (force)")
