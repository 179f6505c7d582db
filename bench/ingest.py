"""Ingest throughput and latency.

    ponte bench ingest [--seconds 60] [--rate R] [--stack STACK_JSON] [--connections 16] [--receivers 2]
    ponte bench ingest --in-process [--batches 60] [--per-record 1] [--workers 1]

By default through a local stack's HTTP webhook route, to the supabase-js client
(``bench/_ingest_http.py``). ``--in-process`` runs the ingest function in process against
PostgreSQL only (no moto, no HTTP), before and after:

Starts a throwaway PostgreSQL from the system binaries (or uses ``DATABASE_URL`` -- a scratch
database is created there), migrates it, seeds two tenants, and feeds both the same traffic: SQS
batches of 10 records, each record ``--per-record`` envelopes (one webhook), a mix of new contacts
(each creates a lead), returning contacts, duplicates (a redelivered record), acks and edits.
  * before: each envelope its own transaction (``IngestService.handle``, the per-record path);
  * after: ``functions.app.ingest_batch`` -- one transaction per tenant and batch.
Prints messages/s stored, p50/p95 ms per batch, client CPU ms per 1,000 messages, and -- checked at
the end -- lost and duplicated counts (must be 0). Last line: one JSON object.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import logging
import os
import platform
import tempfile
import threading
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import psycopg

import functions.app as functions_app
from functions.bootstrap import bootstrap
from ponte.adapters.postgres.db import Database
from ponte.adapters.postgres.ingest_store import PgIngestStore
from ponte.adapters.postgres.migrate import migrate
from ponte.domain.analyze_job import AnalyzeJob
from ponte.domain.envelope import IngestEnvelope, decode_envelopes, pack_envelopes
from ponte.domain.events import AckStatus, Direction, MessageEvent, MessageKind, Provider, StatusEvent
from ponte.domain.identity import identity_from_jid
from ponte.localstack.pgcluster import PgCluster
from ponte.localstack.seed import seed_tenant
from ponte.ports.analysis import AnalyzeJobQueue
from ponte.services.ingest import IngestService
from ponte.settings import Settings

BEFORE = ("00000000-0000-4000-8000-00000000bf01", "00000000-0000-4000-8000-00000000bf02")
AFTER = ("00000000-0000-4000-8000-00000000bf11", "00000000-0000-4000-8000-00000000bf12")
TEXTS = ["Oi! Quanto custa o plano de 300 mega?", "Minha internet caiu de novo", "Segue o comprovante do pix"]
START = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)


class CountingQueue(AnalyzeJobQueue):
    def __init__(self) -> None:
        self.jobs: list[AnalyzeJob] = []
        self._lock = threading.Lock()

    def enqueue(self, job: AnalyzeJob, *, delay_seconds: int = 0) -> None:
        with self._lock:
            self.jobs.append(job)


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def traffic(tenant: str, instance: str, batches: int, per_record: int) -> tuple[list[list[str]], set[str]]:
    """SQS batches (lists of record bodies) and the provider ids that must end up stored."""
    expected: set[str] = set()
    out: list[list[str]] = []
    n = 0
    previous: list[str] = []
    for _ in range(batches):
        bodies: list[str] = []
        for r in range(10):
            envelopes: list[IngestEnvelope] = []
            if r == 9 and previous:  # a redelivered record: duplicates only
                bodies.append(previous[0])
                continue
            for _e in range(per_record):
                n += 1
                # a third new contacts, the rest returning ones (of the first 200)
                contact = n if n % 3 == 0 or n < 200 else n % 200
                jid = f"55119{contact:08d}@s.whatsapp.net"
                mid = f"BI{n}"
                at = START + timedelta(seconds=n)
                if n % 10 == 7:  # an ack for the message before
                    event: Any = StatusEvent(
                        provider=Provider.EVOLUTION,
                        instance="bench",
                        provider_message_id=f"BI{n - 1}",
                        from_me=False,
                        status=AckStatus.READ,
                        occurred_at=at,
                    )
                elif n % 10 == 8:  # an edit of the message two before
                    event = MessageEvent(
                        provider=Provider.EVOLUTION,
                        instance="bench",
                        provider_message_id=mid,
                        direction=Direction.INBOUND,
                        chat=identity_from_jid(jid),
                        kind=MessageKind.EDITED,
                        text="corrigido",
                        target_message_id=f"BI{n - 2}",
                        occurred_at=at,
                    )
                else:
                    event = MessageEvent(
                        provider=Provider.EVOLUTION,
                        instance="bench",
                        provider_message_id=mid,
                        direction=Direction.INBOUND,
                        chat=identity_from_jid(jid),
                        kind=MessageKind.TEXT,
                        text=TEXTS[n % len(TEXTS)],
                        occurred_at=at,
                        push_name=f"Cliente {contact}",
                    )
                    expected.add(mid)
                envelopes.append(IngestEnvelope(tenant_id=tenant, instance_id=instance, received_at=at, event=event))
            bodies.extend(pack_envelopes(envelopes, 256 * 1024))
        previous = bodies
        out.append(bodies)
    return out, expected


def sqs_event(bodies: list[str]) -> dict[str, Any]:
    return {
        "Records": [
            {
                "messageId": str(uuid.uuid4()),
                "receiptHandle": "rh",
                "body": body,
                "attributes": {"ApproximateReceiveCount": "1"},
                "messageAttributes": {},
                "md5OfBody": "",
                "eventSource": "aws:sqs",
                "eventSourceARN": "arn:aws:sqs:us-east-1:000000000000:ponte-ingest",
                "awsRegion": "us-east-1",
            }
            for body in bodies
        ]
    }


def run_mode(name: str, batches: list[list[str]], unit: Any, workers: int) -> dict[str, float]:
    times: list[float] = []
    lock = threading.Lock()
    work = list(batches)

    def loop() -> None:
        while True:
            with lock:
                if not work:
                    return
                batch = work.pop(0)
            started = time.perf_counter()
            unit(batch)
            elapsed = time.perf_counter() - started
            with lock:
                times.append(elapsed)

    cpu0, wall0 = time.process_time(), time.perf_counter()
    threads = [threading.Thread(target=loop) for _ in range(workers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall, cpu = time.perf_counter() - wall0, time.process_time() - cpu0
    envelopes = sum(len(decode_envelopes(body)) for batch in batches for body in batch)
    figures = {
        "events_per_s": envelopes / wall,
        "p50_ms": percentile(times, 0.5) * 1000,
        "p95_ms": percentile(times, 0.95) * 1000,
        "client_cpu_ms_per_1000": cpu / envelopes * 1e6,
    }
    print(
        f"{name:<7} {envelopes} events in {len(times)} batches of 10 records: {figures['events_per_s']:7.1f} events/s"
        f"   per batch p50 {figures['p50_ms']:6.1f} ms  p95 {figures['p95_ms']:6.1f} ms"
        f"   client CPU {figures['client_cpu_ms_per_1000']:6.0f} ms/1000"
    )
    return figures


def check(db: Database, tenant: str, expected: set[str]) -> tuple[int, int]:
    with db.as_service(tenant) as conn:
        rows = conn.execute(
            "select provider_message_id, count(*) as n from public.messages where tenant_id = %s"
            " and kind = 'text' group by 1",
            (tenant,),
        ).fetchall()
    got = {r["provider_message_id"]: r["n"] for r in rows}
    lost = len(expected - got.keys())
    duplicated = sum(n - 1 for n in got.values()) + len(got.keys() - expected)
    return lost, duplicated


def bench(dsn: str, batches: int, per_record: int, workers: int) -> dict[str, Any]:
    logging.getLogger().setLevel(logging.ERROR)
    db = Database(dsn, max_size=max(2, workers + 1))
    try:
        queue = CountingQueue()
        before_service = IngestService(PgIngestStore(db), queue)
        container = bootstrap(Settings(database_url=dsn), db=db)
        functions_app.set_container(dataclasses.replace(container, ingest=IngestService(PgIngestStore(db), queue)))
        before_batches, before_expected = traffic(*BEFORE, batches, per_record)
        after_batches, after_expected = traffic(*AFTER, batches, per_record)

        def per_event(bodies: list[str]) -> None:
            for body in bodies:
                for env in decode_envelopes(body):
                    before_service.handle(env)

        def batched(bodies: list[str]) -> None:
            result = functions_app.ingest_batch(sqs_event(bodies), None)
            assert result == {"batchItemFailures": []}, result

        before = run_mode("before", before_batches, per_event, workers)
        after = run_mode("after", after_batches, batched, workers)
        lost_b, dup_b = check(db, BEFORE[0], before_expected)
        lost_a, dup_a = check(db, AFTER[0], after_expected)
        print(f"checked: before lost {lost_b} duplicated {dup_b}; after lost {lost_a} duplicated {dup_a}")
        with db.as_service(AFTER[0]) as conn:
            leads = conn.execute("select count(*) as n from public.leads where tenant_id = %s", (AFTER[0],)).fetchone()
        print(f"after: {leads['n']} leads, {len(queue.jobs)} analyze jobs enqueued in all")
        return {
            "bench": "ingest",
            "mode": "in-process",
            "workers": workers,
            "per_record": per_record,
            "before_per_s": round(before["events_per_s"], 1),
            "stored_per_s": round(after["events_per_s"], 1),
            "before_p50_ms": round(before["p50_ms"], 2),
            "before_p95_ms": round(before["p95_ms"], 2),
            "p50_ms": round(after["p50_ms"], 2),
            "p95_ms": round(after["p95_ms"], 2),
            "client_cpu_ms_per_1000": round(after["client_cpu_ms_per_1000"]),
            "lost": lost_a + lost_b,
            "duplicated": dup_a + dup_b,
            "realtime_p95_ms": None,
        }
    finally:
        functions_app.set_container(None)
        db.close()


def seed(dsn: str) -> None:
    with psycopg.connect(dsn) as conn:
        for i, (tenant, instance) in enumerate((BEFORE, AFTER)):
            seed_tenant(
                conn,
                tenant_id=tenant,
                name=f"Bench {i}",
                user_id=str(uuid.uuid4()),
                email=f"b{i}@b.local",
                instance_id=instance,
                webhook_secret="bench",
            )
        conn.commit()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="ponte bench ingest")
    parser.add_argument("--in-process", action="store_true", help="the ingest function against PostgreSQL only")
    http = parser.add_argument_group("through the local stack's HTTP (the default)")
    http.add_argument("--seconds", type=float, default=60, help="how long to send at --rate")
    http.add_argument("--rate", type=float, default=None, help="webhooks per second (open loop); none: as fast as")
    http.add_argument("--messages", type=int, default=20_000, help="webhooks to send without --rate")
    http.add_argument("--stack", default=None, help="a running stack's stack.json (default: start one)")
    http.add_argument("--connections", type=int, default=16, help="keep-alive connections of the sender")
    http.add_argument("--receivers", type=int, default=2, help="concurrent receivers of the ingest queue")
    http.add_argument("--warmup", type=int, default=2000, help="returning contacts' first messages (not measured)")
    http.add_argument("--drain", type=float, default=120, help="seconds to wait for the queues to drain")
    local = parser.add_argument_group("--in-process")
    local.add_argument("--batches", type=int, default=60)
    local.add_argument("--per-record", type=int, default=1, help="envelopes per SQS record (one webhook)")
    local.add_argument("--workers", type=int, default=1, help="concurrent batches (Lambda concurrency)")
    args = parser.parse_args(argv)
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    print(f"{platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}, load average {load}")
    if not args.in_process:
        from bench._ingest_http import run as run_http

        print(json.dumps(run_http(args)))
        return 0
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
        seed(dsn)
        result = bench(dsn, args.batches, args.per_record, args.workers)
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f"drop database if exists {name} with (force)")
        if cluster is not None:
            cluster.stop()
    print(json.dumps(result))
    return 0
