"""Purge time for one contact with N messages (default 100,000): the full hide path
(one transaction as the owner: authorization, alias closure, every registered table,
hidden list, audit), on a real PostgreSQL with a bystander's equal share of rows.

    ponte bench purge [--messages 100000] [--runs 3] [--database-url URL]
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import tempfile
import time
from pathlib import Path

import psycopg

from ponte.adapters.postgres.accounts import PgMembershipReader
from ponte.adapters.postgres.db import Database
from ponte.adapters.postgres.migrate import migrate
from ponte.adapters.postgres.privacy_admin import PgPrivacyAdmin, PgPurgeStore
from ponte.domain.hidden import ContactRef
from ponte.localstack.pgcluster import PgCluster
from ponte.localstack.seed import seed_tenant
from ponte.services.privacy import PrivacyService

TENANT = "00000000-0000-4000-8000-00000000be01"
OWNER = "00000000-0000-4000-8000-00000000be02"
INSTANCE = "00000000-0000-4000-8000-00000000be03"
PHONE = "+5511987659999"
BYSTANDER = "+5511987658888"


def fill(conn: psycopg.Connection, phone: str, messages: int) -> None:
    """One contact with its aliases, 10 conversations and ``messages`` messages, inserted in bulk."""
    digits = phone[1:]
    contact = conn.execute(
        "insert into public.contacts (tenant_id, identity_key, phone_e164, display_name)"
        " values (%s, %s, %s, 'Pessoa de Teste') returning id",
        (TENANT, phone, phone),
    ).fetchone()[0]  # type: ignore[index]
    conn.execute(
        "insert into public.contact_aliases (tenant_id, alias, contact_id) select %s, a, %s from unnest(%s::text[]) a",
        (TENANT, contact, [phone, f"{digits}@s.whatsapp.net", f"{digits[:4]}{digits[5:]}@s.whatsapp.net"]),
    )
    conn.execute(
        "insert into public.conversations (tenant_id, instance_id, contact_id, chat_key, last_message_at)"
        " select %s, %s, %s, %s || '#' || g, now() from generate_series(1, 10) g",
        (TENANT, INSTANCE, contact, phone),
    )
    conn.execute(
        "insert into public.messages (tenant_id, instance_id, conversation_id, contact_id, chat_key,"
        " provider_message_id, direction, kind, body, occurred_at)"
        " select %s, %s, c.id, %s, c.chat_key, 'm' || g, case when g %% 3 = 0 then 'out' else 'in' end, 'text',"
        " 'mensagem de teste número ' || g, now() - g * interval '1 minute'"
        " from generate_series(1, %s) g"
        " join lateral (select id, chat_key from public.conversations where contact_id = %s"
        "   order by chat_key offset (g %% 10) limit 1) c on true",
        (TENANT, INSTANCE, contact, messages, contact),
    )


def prepare(admin_dsn: str, dbname: str, messages: int) -> str:
    with psycopg.connect(admin_dsn, autocommit=True) as conn:
        conn.execute(f"drop database if exists {dbname} with (force)")
        conn.execute(f"create database {dbname}")
    dsn = psycopg.conninfo.make_conninfo(admin_dsn, dbname=dbname)
    migrate(dsn)
    with psycopg.connect(dsn) as conn:
        seed_tenant(
            conn, tenant_id=TENANT, name="Bench", user_id=OWNER, email="bench@local",
            instance_id=INSTANCE, webhook_secret="bench-webhook-secret",
        )  # fmt: skip
        fill(conn, PHONE, messages)
        fill(conn, BYSTANDER, messages)
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute("vacuum analyze")
    return dsn


def one_run(admin_dsn: str, messages: int) -> tuple[float, dict[str, int], dict[str, float]]:
    dsn = prepare(admin_dsn, "ponte_bench_purge", messages)
    db = Database(dsn, max_size=2)
    try:
        service = PrivacyService(
            admin=PgPrivacyAdmin(db),
            purge=PgPurgeStore(db),
            memberships=PgMembershipReader(db),
            audit_key=b"bench-audit-key",
        )
        claims = {"sub": OWNER, "role": "authenticated", "aud": "authenticated"}
        started = time.perf_counter()
        result = service.hide(claims, ContactRef(phone=PHONE))
        elapsed = time.perf_counter() - started
        # the same purge again, inside a rolled-back transaction, for the per-table timings
        with psycopg.connect(dsn) as conn:
            fill(conn, PHONE, messages)
            timings = conn.execute(
                "select private.purge_contact_data(%s, %s) -> 'timings_ms'", (TENANT, [PHONE])
            ).fetchone()[0]  # type: ignore[index]
            conn.rollback()
    finally:
        db.close()
    with psycopg.connect(dsn) as conn:
        left = conn.execute(
            "select count(*) from public.messages m join public.contacts c on c.id = m.contact_id"
            " where c.phone_e164 = %s",
            (PHONE,),
        ).fetchone()[0]  # type: ignore[index]
        kept = conn.execute("select count(*) from public.messages").fetchone()[0]  # type: ignore[index]
    if left != 0 or kept != messages:
        raise SystemExit(f"purge incomplete: {left} of the contact's messages left, {kept} others kept")
    return elapsed, result.deleted.counts, timings


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="ponte bench purge", description=__doc__)
    parser.add_argument("--messages", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--database-url", default=os.environ.get("DATABASE_URL"), help="a superuser DSN")
    args = parser.parse_args(argv)
    cluster = None
    admin_dsn = args.database_url
    if not admin_dsn:
        cluster = PgCluster(Path(tempfile.mkdtemp(prefix="ponte-bench-")) / "data").start()
        admin_dsn = cluster.url
    try:
        times = []
        counts: dict[str, int] = {}
        timings: dict[str, float] = {}
        for _ in range(args.runs):
            elapsed, counts, timings = one_run(admin_dsn, args.messages)
            times.append(elapsed)
    finally:
        if cluster is not None:
            cluster.stop()
    print(f"machine: {platform.machine()} {os.cpu_count()} CPU, Python {platform.python_version()}")
    print(f"rows deleted per run: {counts}")
    slowest = sorted(timings.items(), key=lambda kv: -kv[1])[:4]
    print(f"per-table time of the last run (ms, re-filled, rolled back): {dict(slowest)}")
    print(f"runs: {', '.join(f'{t:.3f}s' for t in times)}")
    print(f"purge of a contact with {args.messages:,} messages: median {statistics.median(times):.3f} s (target < 2 s)")
    return 0
