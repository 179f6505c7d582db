"""The operations report at size: a year of lifecycle events of one large tenant, through HTTP.

    ponte bench kpis [--customers 10000] [--cycles-per-customer 6] [--requests 50]

Starts a throw-away local stack, gives the demo tenant ``--customers`` contacts with one
conversation each, 20 agents in 4 teams, and a year of service: ``--cycles-per-customer``
conversation cycles per customer, spread over the year, each with its events (open, route,
assign, first response, two replies, resolve; a CSAT answer for 30 % and an SLA breach for 10 %),
loaded with ``generate_series`` (~500,000 events by default) through the KPI rollups' triggers,
with a second tenant as large so the report must keep them apart. Then ``GET /reports/kpis`` as the
owner over loopback HTTP: the whole year, the year for one team, for one agent, one month, and a
month that starts and ends mid-day; p50 / p95 / max in ms, the year's plan; what the rollups cost
the writers (one event per transaction, as the lifecycle writes them, with and without the
triggers; a purge-sized delete); and one JSON line last.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import tempfile
import time
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
import psycopg

from ponte.adapters.postgres.reports import KPI_SQL, kpi_params
from ponte.localstack.jwt_tokens import mint_token
from ponte.localstack.seed import seed_tenant
from ponte.localstack.stack import LocalStack
from ponte.ports.reports import KpiQuery

OTHER_TENANT = "00000000-0000-4000-8000-00000000be21"
OTHER_USER = "00000000-0000-4000-8000-00000000be22"
OTHER_INSTANCE = "00000000-0000-4000-8000-00000000be23"
YEAR_FROM, YEAR_TO = "2025-12-01T00:00:00-03:00", "2026-12-01T00:00:00-03:00"

_AGENTS = """
insert into auth.users (id, email)
select md5(%(tenant)s || 'agent' || a)::uuid, 'agente' || a || '@' || left(%(tenant)s, 8) || '.bench'
from generate_series(1, 20) a on conflict do nothing;
insert into public.memberships (tenant_id, user_id, role)
select %(tenant)s::uuid, md5(%(tenant)s || 'agent' || a)::uuid, 'agent' from generate_series(1, 20) a
on conflict do nothing;
insert into public.teams (id, tenant_id, name)
select md5(%(tenant)s || 'team' || t)::uuid, %(tenant)s::uuid, 'Time ' || t from generate_series(1, 4) t;
insert into public.team_members (tenant_id, team_id, user_id)
select %(tenant)s::uuid, md5(%(tenant)s || 'team' || (a %% 4 + 1))::uuid, md5(%(tenant)s || 'agent' || a)::uuid
from generate_series(1, 20) a;
"""

_CUSTOMERS = """
insert into public.contacts (id, tenant_id, identity_key, phone_e164)
select md5(%(tenant)s || 'contact' || c)::uuid, %(tenant)s::uuid, '+55119' || lpad(c::text, 8, '0'),
  '+55119' || lpad(c::text, 8, '0') from generate_series(1, %(customers)s) c;
insert into public.conversations (id, tenant_id, instance_id, contact_id, chat_key, state, status)
select md5(%(tenant)s || 'conversation' || c)::uuid, %(tenant)s::uuid, %(instance)s::uuid,
  md5(%(tenant)s || 'contact' || c)::uuid, '+55119' || lpad(c::text, 8, '0'), 'resolved', 'closed'
from generate_series(1, %(customers)s) c;
"""

# one row per cycle: when it started and how it went (deterministic pseudo-random from its number)
_CYCLES = """
create temporary table cycles on commit drop as
select g, md5(%(tenant)s || 'conversation' || (g %% %(customers)s + 1))::uuid as conversation_id,
  timestamptz '2025-12-01 03:00:00+00' + make_interval(secs => (g::bigint * 7919 %% 31536000)) as at,
  md5(%(tenant)s || 'agent' || (g %% 20 + 1))::uuid as agent_id,
  md5(%(tenant)s || 'team' || ((g %% 20) %% 4 + 1))::uuid as team_id,
  30 + (g * 37 %% 600) as queue_wait, 60 + (g * 53 %% 3600) as first_response,
  600 + (g * 97 %% 86400) as resolution, (g %% 10 = 0) as breached, (g %% 10 < 3) as rated
from generate_series(1, %(cycles)s) g;
insert into public.conversation_events (tenant_id, conversation_id, instance_id, cycle, kind, action, from_state,
  to_state, actor_type, actor_id, team_id, agent_id, value_seconds, business_seconds, sla_due_at, occurred_at)
select %(tenant)s::uuid, c.conversation_id, %(instance)s::uuid, 1, e.kind, e.action, e.from_state, e.to_state,
  e.actor_type, null, e.team_id, e.agent_id, e.value_seconds, e.value_seconds * 0.6, e.sla_due_at, e.occurred_at
from cycles c cross join lateral (values
  ('transition', 'open', null, 'bot', 'customer', null::uuid, null::uuid, null::float8, null::timestamptz, c.at),
  ('transition', 'route', 'bot', 'waiting', 'rule', c.team_id, null, null, null, c.at + interval '20 seconds'),
  ('transition', 'assign', 'waiting', 'in_service', 'system', c.team_id, c.agent_id, c.queue_wait::float8, null,
    c.at + make_interval(secs => 20 + c.queue_wait)),
  ('first_response', null, null, null, 'agent', c.team_id, c.agent_id, c.first_response::float8,
    c.at + make_interval(secs => case when c.breached then 60 else 3600 end),
    c.at + make_interval(secs => c.first_response)),
  ('reply', null, null, null, 'agent', c.team_id, c.agent_id, c.first_response::float8,
    c.at + make_interval(secs => case when c.breached then 60 else 3600 end),
    c.at + make_interval(secs => c.first_response)),
  ('reply', null, null, null, 'agent', c.team_id, c.agent_id, 240::float8, null,
    c.at + make_interval(secs => c.first_response + 600)),
  ('transition', 'resolve', 'in_service', 'resolved', 'agent', c.team_id, c.agent_id, c.resolution::float8, null,
    c.at + make_interval(secs => c.first_response + c.resolution))
) e(kind, action, from_state, to_state, actor_type, team_id, agent_id, value_seconds, sla_due_at, occurred_at);
insert into public.conversation_events (tenant_id, conversation_id, instance_id, cycle, kind, actor_type, team_id,
  agent_id, value_seconds, occurred_at)
select %(tenant)s::uuid, conversation_id, %(instance)s::uuid, 1, 'csat', 'customer', team_id, agent_id,
  (g %% 5 + 1)::float8, at + make_interval(secs => first_response + resolution + 300)
from cycles where rated;
insert into public.conversation_events (tenant_id, conversation_id, instance_id, cycle, kind, actor_type, team_id,
  agent_id, value_seconds, sla_due_at, occurred_at)
select %(tenant)s::uuid, conversation_id, %(instance)s::uuid, 1, 'sla_breach', 'system', team_id, agent_id,
  first_response - 60, at + interval '60 seconds', at + interval '61 seconds'
from cycles where breached;
"""


def load(dsn: str, tenant: str, instance: str, customers: int, cycles: int) -> float:
    started = time.monotonic()
    args = {"tenant": tenant, "instance": instance, "customers": customers, "cycles": cycles}

    def run(conn: psycopg.Connection[Any], script: str) -> None:
        for statement in filter(str.strip, script.split(";\n")):  # one at a time: they take parameters
            conn.execute(statement, args)

    with psycopg.connect(dsn) as conn:
        # the local stack commits asynchronously: a vacuum right after an unflushed commit cannot mark
        # the pages all-visible, and the report's index-only scans would read the heap
        conn.execute("set synchronous_commit = on")
        conn.execute("set session_replication_role = replica")  # bulk load: no broadcast triggers
        run(conn, _AGENTS)
        run(conn, _CUSTOMERS)
        # the events through the rollups' triggers, as every writer's; not broadcast (nobody listens)
        conn.execute("set session_replication_role = origin")
        conn.execute("alter table public.conversation_events disable trigger realtime_broadcast")
        run(conn, _CYCLES)
        conn.execute("alter table public.conversation_events enable trigger realtime_broadcast")
    return time.monotonic() - started


_ONE_EVENT = """
insert into public.conversation_events (tenant_id, conversation_id, instance_id, cycle, kind, actor_type, team_id,
  agent_id, value_seconds, business_seconds, message_id)
values (%(tenant)s::uuid, md5(%(tenant)s::text || 'conversation' || %(n)s)::uuid, %(instance)s::uuid, 1, 'reply',
  'agent', md5(%(tenant)s::text || 'team' || (%(n)s::int %% 4 + 1))::uuid,
  md5(%(tenant)s::text || 'agent' || (%(n)s::int %% 20 + 1))::uuid, 42, 42, gen_random_uuid())
"""


def write_cost(dsn: str, tenant: str, instance: str, events: int = 400, block: int = 50) -> dict[str, float]:
    """What the rollups cost the writers: one event per transaction (the lifecycle's reply, with its
    realtime broadcast), in blocks with and without the rollups' insert trigger, alternately (the
    first insert after each switch not counted: the table's cache is rebuilt); then one delete of
    them all (the purge's statement: the rollups subtract them)."""
    samples: dict[bool, list[float]] = {True: [], False: []}
    with psycopg.connect(dsn, autocommit=True) as conn:
        for n in range(events):
            rollups = (n // block) % 2 == 0
            if n % block == 0:
                switch = "enable" if rollups else "disable"
                conn.execute(f"alter table public.conversation_events {switch} trigger kpi_rollup_inserted")
            started = time.perf_counter()
            conn.execute(_ONE_EVENT, {"tenant": tenant, "instance": instance, "n": n % 1000 + 1})
            if n % block:
                samples[rollups].append((time.perf_counter() - started) * 1000)
        conn.execute("alter table public.conversation_events enable trigger kpi_rollup_inserted")
        # the events written without the trigger are not in the rollups: rebuild before the delete
        conn.execute("select private.kpi_rebuild(%s)", (tenant,))
        started = time.perf_counter()
        conn.execute(
            "delete from public.conversation_events where tenant_id = %s and kind = 'reply' and message_id is not null",
            (tenant,),
        )
        deleted_ms = (time.perf_counter() - started) * 1000
    return {
        "insert_with_rollups_p50_ms": round(statistics.median(samples[True]), 3),
        "insert_without_rollups_p50_ms": round(statistics.median(samples[False]), 3),
        "delete_ms": round(deleted_ms, 1),
        "deleted": events,
    }


def percentile(samples: list[float], share: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def figures(samples: list[float]) -> dict[str, float]:
    return {
        "p50_ms": round(statistics.median(samples), 2),
        "p95_ms": round(percentile(samples, 0.95), 2),
        "max_ms": round(max(samples), 2),
    }


def timed(client: httpx.Client, url: str, params: dict[str, str]) -> tuple[float, Any]:
    started = time.perf_counter()
    response = client.get(url, params=params)
    elapsed = (time.perf_counter() - started) * 1000
    if response.status_code != 200:
        raise SystemExit(f"{url} answered {response.status_code}: {response.text[:300]}")
    return elapsed, response.json()


def plan(dsn: str, user: str, tenant: str) -> list[str]:
    claims = json.dumps({"sub": user, "role": "authenticated"})
    query = KpiQuery(tenant_id=tenant, period_from=datetime.fromisoformat(YEAR_FROM),
                     period_to=datetime.fromisoformat(YEAR_TO))  # fmt: skip
    with psycopg.connect(dsn) as conn:
        conn.execute("select set_config('request.jwt.claims', %s, true), set_config('role', 'authenticated', true)",
                     (claims,))  # fmt: skip
        conn.execute("set local jit = off")  # as the report runs
        args = kpi_params(conn, query)
        rows = conn.execute("explain (analyze, costs off, timing off, summary on) " + KPI_SQL, args).fetchall()
    return [r[0] for r in rows]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="ponte bench kpis")
    parser.add_argument("--customers", type=int, default=10_000)
    parser.add_argument("--cycles-per-customer", type=int, default=6)
    parser.add_argument("--requests", type=int, default=50, help="requests per measured call")
    args = parser.parse_args(argv)
    cycles = args.customers * args.cycles_per_customer
    print(f"python {platform.python_version()}; {platform.machine()}; {os.cpu_count()} CPUs;"
          f" load average {os.getloadavg()[0]:.2f}")  # fmt: skip
    with tempfile.TemporaryDirectory(prefix="ponte-bench-kpis-") as tmp:
        stack = LocalStack(state_dir=Path(tmp) / "state", proxy_port=0, keep_data=False).start()
        try:
            assert stack.demo is not None
            demo = stack.demo
            with psycopg.connect(stack.dsn, autocommit=True) as conn:
                seed_tenant(conn, tenant_id=OTHER_TENANT, name="Outra", user_id=OTHER_USER, email="o@kpis.bench",
                            instance_id=OTHER_INSTANCE, gateway_instance="outra", webhook_secret="bench")  # fmt: skip
            seconds = sum(
                load(stack.dsn, tenant, instance, args.customers, cycles)
                for tenant, instance in ((demo.tenant_id, demo.instance_id), (OTHER_TENANT, OTHER_INSTANCE))
            )
            with psycopg.connect(stack.dsn, autocommit=True) as conn:
                conn.execute("vacuum analyze public.conversation_events")
                conn.execute("vacuum analyze public.conversations")
                events = conn.execute(
                    "select count(*) from public.conversation_events where tenant_id = %s", (demo.tenant_id,)
                ).fetchone()
                team, agent = conn.execute(
                    "select team_id::text, user_id::text from public.team_members where tenant_id = %s limit 1",
                    (demo.tenant_id,),
                ).fetchone() or (None, None)
            measured_events = events[0] if events else 0
            print(f"loaded 2 tenants x {args.customers:,} customers, {cycles:,} cycles each;"
                  f" {measured_events:,} events in the measured tenant, in {seconds:.1f} s"
                  " (the rollups' triggers included)")  # fmt: skip
            token = mint_token(stack.secrets.jwt_secret, sub=demo.user_id)
            url = f"{stack.proxy_url}/reports/kpis"
            year = {"from": YEAR_FROM, "to": YEAR_TO}
            cases = {
                "year": year,
                "year_one_team": {**year, "team": str(team)},
                "year_one_agent": {**year, "agent": str(agent)},
                "one_month": {"from": "2026-06-01T00:00:00-03:00", "to": "2026-07-01T00:00:00-03:00"},
                "month_mid_day": {"from": "2026-06-01T10:30:00-03:00", "to": "2026-07-01T15:45:00-03:00"},
            }
            results: dict[str, Any] = {"bench": "kpis", "customers": args.customers, "cycles": cycles,
                                       "events": measured_events}  # fmt: skip
            with httpx.Client(headers={"Authorization": f"Bearer {token}"}, timeout=120) as client:
                _, report = timed(client, url, year)
                print(f"the year: {report['conversations_opened']:,} opened, first response p50"
                      f" {report['first_response']['seconds_p50']:.0f} s, SLA breach rate {report['sla_breach_rate']},"
                      f" CSAT {report['csat_average']}")  # fmt: skip
                for _ in range(3):
                    timed(client, url, year)  # warm-up: connections, caches
                for name, params in cases.items():
                    samples = [timed(client, url, params)[0] for _ in range(args.requests)]
                    results[name] = figures(samples)
                    print(f"{name:>15}: p50 {results[name]['p50_ms']:.1f} ms, p95 {results[name]['p95_ms']:.1f} ms,"
                          f" max {results[name]['max_ms']:.1f} ms ({args.requests} requests)")  # fmt: skip
            lines = plan(stack.dsn, demo.user_id, demo.tenant_id)
            print("plan of the year's report (EXPLAIN ANALYZE as the owner):")
            for line in lines:
                if "Scan" in line or "Execution Time" in line or "Heap Fetches" in line:
                    print("   ", line.strip())
            results["writes"] = write_cost(stack.dsn, OTHER_TENANT, OTHER_INSTANCE)
            print(f"one event per transaction: p50 {results['writes']['insert_with_rollups_p50_ms']} ms with the"
                  f" rollups, {results['writes']['insert_without_rollups_p50_ms']} ms without;"
                  f" {results['writes']['deleted']} events deleted in one statement in"
                  f" {results['writes']['delete_ms']} ms")  # fmt: skip
            results["load_average"] = round(os.getloadavg()[0], 2)
            print(json.dumps(results))
        finally:
            stack.stop()
    return 0
