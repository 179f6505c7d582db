"""Lead creation and analysis storage on a real PostgreSQL, and the fast path's latency.

    ponte bench leads [--messages 400] [--customers 2000]

Starts a throwaway PostgreSQL from the system binaries (or uses ``DATABASE_URL`` -- a scratch
database is created there), migrates it, seeds one tenant whose ERP has ``--customers`` records,
then, one message per new number (each creates a lead matched by phone, half of them to an ERP
record):
  * ingest: contact + conversation + message + lead in one transaction (messages/s, p50/p95 ms);
  * analyze, degraded path (no worker): context read, fast-path labels, score, triage, analysis +
    lead + conversation writes (analyses/s, p50/p95 ms);
  * fast path alone (LeIA + rules, in-process): p50/p95 microseconds per message.
One process, sequential: per-message cost on this machine, not a concurrency figure.
"""

from __future__ import annotations

import argparse
import os
import platform
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

import psycopg

from ponte.adapters.leia_labeler import LeiaFastLabeler
from ponte.adapters.postgres.analysis_store import PgAnalysisStore
from ponte.adapters.postgres.db import Database
from ponte.adapters.postgres.ingest_store import PgIngestStore
from ponte.adapters.postgres.migrate import migrate
from ponte.domain.analysis import AnalyzeRequest
from ponte.domain.analyze_job import AnalyzeJob
from ponte.domain.envelope import IngestEnvelope
from ponte.domain.events import Direction, MessageEvent, MessageKind, Provider
from ponte.domain.identity import identity_from_jid
from ponte.localstack.pgcluster import PgCluster
from ponte.localstack.seed import seed_tenant
from ponte.ports.analysis import AnalyzeJobQueue
from ponte.services.analyze import AnalyzeService
from ponte.services.ingest import IngestService

TENANT = "00000000-0000-4000-8000-00000000be01"
INSTANCE = "00000000-0000-4000-8000-00000000be02"
TEXTS = [
    "Oi! Quanto custa o tênis azul no 40?",
    "Fui cobrado duas vezes no cartão, quero o estorno",
    "Dá pra parcelar em 3x?",
    "Meu pedido não chegou ainda, que absurdo",
    "Segue o comprovante do pix",
    "Bom dia, tudo bem?",
    "Como faço pra trocar o tamanho?",
    "Amei a bolsa!! chegou rapidinho 😍",
]


class CountingQueue(AnalyzeJobQueue):
    """Keeps the jobs ingest enqueues (the analyze half of the bench runs them in order)."""

    def __init__(self) -> None:
        self.jobs: list[AnalyzeJob] = []

    def enqueue(self, job: AnalyzeJob, *, delay_seconds: int = 0) -> None:
        self.jobs.append(job)


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def summary(name: str, unit: str, values: list[float], scale: float) -> None:
    total = sum(values)
    print(
        f"{name:<28} {len(values) / total:8.1f}/s   p50 {percentile(values, 0.5) * scale:7.2f} {unit}"
        f"   p95 {percentile(values, 0.95) * scale:7.2f} {unit}"
    )


def seed(dsn: str, customers: int) -> None:
    with psycopg.connect(dsn) as conn:
        seed_tenant(
            conn,
            tenant_id=TENANT,
            name="Bench",
            user_id=str(uuid.uuid4()),
            email="bench@b.local",
            instance_id=INSTANCE,
            webhook_secret="bench",
        )
        with conn.cursor() as cur:
            cur.executemany(
                "insert into public.customers (tenant_id, external_id, name, phone_e164) values (%s, %s, %s, %s)",
                # the ERP keeps the old 8-digit form: matching must try the 9th-digit variants
                [(TENANT, f"ERP-{i}", f"Cliente {i}", f"+55118{i:07d}") for i in range(customers)],
            )
        conn.commit()


def envelope(i: int) -> IngestEnvelope:
    # even numbers are ERP customers (legacy form stored), odd ones are new people
    number = f"5511{'98' if i % 2 == 0 else '97'}{i // 2:07d}"
    event = MessageEvent(
        provider=Provider.EVOLUTION,
        instance="bench",
        provider_message_id=f"BENCH{i}",
        direction=Direction.INBOUND,
        chat=identity_from_jid(f"{number}@s.whatsapp.net"),
        kind=MessageKind.TEXT,
        text=TEXTS[i % len(TEXTS)],
        occurred_at=datetime.now(UTC),
    )
    return IngestEnvelope(tenant_id=TENANT, instance_id=INSTANCE, received_at=datetime.now(UTC), event=event)


def bench(dsn: str, messages: int) -> None:
    db = Database(dsn, max_size=2)
    try:
        queue = CountingQueue()
        ingest = IngestService(PgIngestStore(db), queue)
        analyze = AnalyzeService(store=PgAnalysisStore(db), inference=None, fast=LeiaFastLabeler(), queue=None)
        LeiaFastLabeler().label(AnalyzeRequest(text="aquecimento"))  # lexicon loaded before timing
        ingest_times, analyze_times = [], []
        for i in range(messages):
            started = time.perf_counter()
            ingest.handle(envelope(i))
            ingest_times.append(time.perf_counter() - started)
        with db.as_service(TENANT) as conn:
            leads, matched = (
                conn.execute("select count(*) as n, count(customer_id) as m from public.leads").fetchone().values()
            )
        for job in queue.jobs:
            started = time.perf_counter()
            outcome = analyze.handle(job)
            analyze_times.append(time.perf_counter() - started)
            assert outcome.status == "degraded"
        print(f"leads created: {leads} for {messages} new numbers, {matched} matched to an ERP record")
        summary("ingest + lead (1 txn)", "ms", ingest_times, 1000)
        summary("analyze, degraded, stored", "ms", analyze_times, 1000)
    finally:
        db.close()
    labeler = LeiaFastLabeler()
    fast = []
    for i in range(2000):
        started = time.perf_counter()
        labeler.label(AnalyzeRequest(text=TEXTS[i % len(TEXTS)]))
        fast.append(time.perf_counter() - started)
    summary("fast path labels (in-process)", "us", fast, 1e6)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="ponte bench leads")
    parser.add_argument("--messages", type=int, default=400)
    parser.add_argument("--customers", type=int, default=2000)
    args = parser.parse_args(argv)
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    print(f"{platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}, load average {load}")
    external = os.environ.get("DATABASE_URL")
    cluster = None
    if external:
        admin = external
    else:
        cluster = PgCluster(Path(tempfile.mkdtemp(prefix="ponte-bench-")) / "data").start()
        admin = cluster.url
    name = f"ponte_bench_{os.getpid()}"
    try:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f"create database {name}")
        dsn = psycopg.conninfo.make_conninfo(admin, dbname=name)
        migrate(dsn)
        seed(dsn, args.customers)
        bench(dsn, args.messages)
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f"drop database if exists {name} with (force)")
        if cluster is not None:
            cluster.stop()
    return 0
