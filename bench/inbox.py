"""The inbox read API at size, through the proxy's HTTP on the local stack.

    ponte bench inbox [--conversations 10000] [--messages-per 100] [--requests 200]

Starts a throw-away local stack (its own PostgreSQL), loads two tenants of the same size --
the demo tenant (measured) and another one (so RLS and the indexes must keep them apart) --
each ``--conversations`` conversations with ``--messages-per`` messages (1,000,000 by default),
a lead per contact and an analysis on every fifth inbound message. The load drops the read
indexes, inserts with ``generate_series`` without row triggers and builds the indexes again
(as a restore would), then ANALYZEs. Measured, sequentially, as the demo owner with a real JWT over loopback HTTP:
  * the first inbox page (``GET /conversations``, 50 items), and with ``unread=true`` (the owner,
    who has read nothing, and an agent who has read nine conversations in ten);
  * a 50-message history page of a random conversation, and the page after it by cursor;
  * search (``GET /search?q=``) for a frequent word, a rare one and a two-word query;
p50 / p95 / max in ms each; then the plans (EXPLAIN ANALYZE as the caller) with their index use,
and for each search how many of its matches the walk over the newest messages found.
The last line is the figures as one JSON object.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import statistics
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import psycopg

from ponte.adapters.postgres.inbox import conversations_sql
from ponte.localstack.jwt_tokens import mint_token
from ponte.localstack.seed import seed_tenant
from ponte.localstack.stack import LocalStack
from ponte.ports.inbox import InboxQuery

OTHER_TENANT = "00000000-0000-4000-8000-00000000be11"
OTHER_USER = "00000000-0000-4000-8000-00000000be12"
OTHER_INSTANCE = "00000000-0000-4000-8000-00000000be13"
# an agent of the measured tenant who has read nine conversations in ten (the owner has read none)
READER = "00000000-0000-4000-8000-00000000be14"

WORDS = (
    "oi",
    "bom",
    "dia",
    "boa",
    "tarde",
    "quero",
    "comprar",
    "preço",
    "pedido",
    "entrega",
    "boleto",
    "pix",
    "cartão",
    "parcelar",
    "troca",
    "tamanho",
    "cor",
    "azul",
    "preto",
    "tênis",
    "bolsa",
    "camiseta",
    "frete",
    "prazo",
    "chegou",
    "atrasado",
    "obrigado",
    "valeu",
    "reclamação",
    "estorno",
    "cobrança",
    "fatura",
    "segunda",
    "via",
    "desconto",
    "promoção",
    "loja",
    "endereço",
    "nota",
    "fiscal",
    "garantia",
    "defeito",
    "suporte",
    "internet",
    "lenta",
    "sem",
    "sinal",
    "técnico",
    "visita",
    "plano",
    "mensalidade",
    "cancelar",
    "contrato",
    "atendimento",
    "rápido",
)

READ_INDEXES = {
    "messages_search_idx": "create index messages_search_idx on public.messages"
    " using gin (to_tsvector('public.pt_unaccent'::regconfig, coalesce(body, '')))",
    "messages_conversation_idx": "create index messages_conversation_idx on public.messages"
    " (conversation_id, occurred_at desc, id desc)",
    "messages_inbound_idx": "create index messages_inbound_idx on public.messages (conversation_id, occurred_at)"
    " where direction = 'in'",
    "messages_tenant_idx": "create index messages_tenant_idx on public.messages (tenant_id, occurred_at desc)",
    "messages_contact_idx": "create index messages_contact_idx on public.messages (contact_id)",
}

LOAD = """
with k as (
  insert into public.contacts (tenant_id, identity_key, phone_e164, display_name, updated_at)
  select %(tenant)s, p, p, 'Cliente ' || i, now() - i * interval '1 minute'
  from generate_series(1, %(n)s) i, lateral (select '+55' || (11 + i %% 80)::text || '9' || lpad(i::text, 8, '0') p) x
  returning id, phone_e164
)
insert into public.conversations (tenant_id, instance_id, contact_id, chat_key, last_message_at, priority, sla_due_at)
select %(tenant)s, %(instance)s, k.id, k.phone_e164, now() - random() * interval '30 days',
  (array['low', 'medium', 'high', 'critical'])[1 + floor(random() * 4)::int],
  case when random() < 0.3 then now() + (random() - 0.3) * interval '4 hours' end
from k
"""

# The texts: SENTENCES random sentences of 3 to 14 words made once into a temporary table, each
# message joined to one by a hash of its position (a correlated string_agg per message, or an
# array subscript detoasting the whole array per row, were most of the load's time).
SENTENCES = 20_000
LOAD_TEXTS = """
create temporary table if not exists bench_texts as
select g as n, string_agg((%(words)s::text[])[1 + floor(random() * %(nwords)s)::int], ' ') as t
from generate_series(0, %(sentences)s - 1) g, lateral generate_series(1, 3 + g %% 12) w group by g
"""
LOAD_MESSAGES = """
insert into public.messages (tenant_id, instance_id, conversation_id, contact_id, chat_key, provider_message_id,
  direction, kind, body, status, occurred_at)
select c.tenant_id, c.instance_id, c.id, c.contact_id, c.chat_key, 'B' || j || '-' || c.id,
  case when j %% 3 = 0 then 'out' else 'in' end, 'text', b.t,
  'delivered', c.last_message_at - (%(per)s - j) * interval '3 minutes'
from public.conversations c cross join generate_series(1, %(per)s) j
join bench_texts b on b.n = abs(hashtext(c.id::text || j)) %% %(sentences)s
where c.tenant_id = %(tenant)s
"""

# what ingest's conversation upsert keeps: the newest inbound message's time
LOAD_LAST_INBOUND = """
update public.conversations c set last_inbound_at = m.newest
from (select conversation_id, max(occurred_at) as newest from public.messages
      where tenant_id = %(tenant)s and direction = 'in' group by conversation_id) m
where m.conversation_id = c.id
"""

LOAD_READS = """
insert into public.conversation_reads (tenant_id, conversation_id, user_id, read_at)
select c.tenant_id, c.id, %(user)s, c.last_message_at from public.conversations c
where c.tenant_id = %(tenant)s and abs(hashtext(c.id::text)) %% 10 <> 0
"""

LOAD_LEADS = """
insert into public.leads (tenant_id, contact_id, conversation_id, status, score, priority)
select c.tenant_id, c.contact_id, c.id, (array['new', 'open', 'won', 'lost'])[1 + floor(random() * 4)::int],
  floor(random() * 100)::int, c.priority
from public.conversations c where c.tenant_id = %(tenant)s
"""

LOAD_ANALYSES = """
insert into public.message_analyses (tenant_id, message_id, conversation_id, sentiment, sentiment_score, intent,
  intent_confidence, urgency, labels_source, model, score, score_parts, priority, sla_due_at, created_at)
select m.tenant_id, m.id, m.conversation_id, 'neutral', 0, 'other', 0.5, 'low', 'bench', 'bench', 10, '{}',
  'low', m.occurred_at + interval '1 hour', m.occurred_at
from public.messages m where m.tenant_id = %(tenant)s and m.direction = 'in' and hashtext(m.id::text) %% 5 = 0
"""


# public.search_messages (migration 20261207010000_search_recent_first.sql): its walk over the
# tenant's newest messages, and the text index for what the walk did not find
WALK_ROWS = 1000
PROBE_ROWS = 200
SEARCHES = ("boleto", "garantia defeito técnico", "cartão parcelar")
SEARCH_WALK = (
    "select m.id, to_tsvector('public.pt_unaccent'::regconfig, coalesce(m.body, ''))"
    " @@ websearch_to_tsquery('public.pt_unaccent', %s) as hit from public.messages m where m.tenant_id = %s"
    f" order by m.occurred_at desc, m.id desc limit {WALK_ROWS}"
)
SEARCH_INDEX = (
    "select m.id from public.messages m where to_tsvector('public.pt_unaccent'::regconfig, coalesce(m.body, ''))"
    " @@ websearch_to_tsquery('public.pt_unaccent', %s) and m.tenant_id = any(array[%s::uuid])"
    " order by m.occurred_at desc, m.id desc limit 21"
)


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def load(dsn: str, tenant: str, instance: str, conversations: int, per: int) -> float:
    started = time.monotonic()
    with psycopg.connect(dsn, autocommit=True) as conn:
        # as a restore does: no row triggers (realtime broadcasts, foreign-key checks) on bulk rows
        # whose consistency the statements themselves give; the rows are what ingest would store
        conn.execute("set session_replication_role = replica")
        conn.execute(LOAD, {"tenant": tenant, "instance": instance, "n": conversations})
        words = {"words": list(WORDS), "nwords": len(WORDS), "sentences": SENTENCES}
        conn.execute(LOAD_TEXTS, words)
        conn.execute(LOAD_MESSAGES, {"tenant": tenant, "per": per, "sentences": SENTENCES})
        conn.execute(LOAD_LAST_INBOUND, {"tenant": tenant})
        conn.execute(LOAD_LEADS, {"tenant": tenant})
        conn.execute(LOAD_ANALYSES, {"tenant": tenant})
    return time.monotonic() - started


def timed(client: httpx.Client, url: str, params: dict[str, str] | None = None) -> tuple[float, Any]:
    started = time.perf_counter()
    response = client.get(url, params=params)
    elapsed = (time.perf_counter() - started) * 1000
    if response.status_code != 200:
        raise SystemExit(f"{url} answered {response.status_code}: {response.text[:300]}")
    return elapsed, response.json()


def figures(samples: list[float]) -> dict[str, float]:
    return {
        "p50_ms": round(statistics.median(samples), 2),
        "p95_ms": round(percentile(samples, 0.95), 2),
        "max_ms": round(max(samples), 2),
    }


def explain(dsn: str, user: str, sql: str, args: list[Any], *, definer: bool = False) -> list[str]:
    """The plan as the caller runs it; ``definer``: as a security-definer function's body runs (the
    caller's claims, the owner's role: no row policy)."""
    claims = json.dumps({"sub": user, "role": "authenticated"})
    with psycopg.connect(dsn) as conn:
        conn.execute("select set_config('request.jwt.claims', %s, true)", (claims,))
        if definer:
            conn.execute("set local jit = off")  # as public.search_messages sets it
        else:
            conn.execute("select set_config('role', 'authenticated', true)")
        rows = conn.execute("explain (analyze, costs off, timing off, summary on) " + sql, args).fetchall()
    return [r[0] for r in rows]


def index_lines(plan: list[str]) -> list[str]:
    return [line.strip() for line in plan if any(word in line for word in ("Index", "Seq Scan", "Execution Time"))]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="ponte bench inbox")
    parser.add_argument("--conversations", type=int, default=10_000)
    parser.add_argument("--messages-per", type=int, default=100)
    parser.add_argument("--requests", type=int, default=200, help="requests per measured call")
    args = parser.parse_args(argv)
    rng = random.Random(13)
    print(f"python {platform.python_version()}; {platform.machine()}; {os.cpu_count()} CPUs;"
          f" load average {os.getloadavg()[0]:.2f}")  # fmt: skip
    with tempfile.TemporaryDirectory(prefix="ponte-bench-inbox-") as tmp:
        stack = LocalStack(state_dir=Path(tmp) / "state", proxy_port=0, keep_data=False).start()
        try:
            assert stack.demo is not None
            with psycopg.connect(stack.dsn, autocommit=True) as conn:
                seed_tenant(conn, tenant_id=OTHER_TENANT, name="Outra", user_id=OTHER_USER, email="o@bench.local",
                            instance_id=OTHER_INSTANCE, gateway_instance="outra",
                            webhook_secret="bench-other")  # fmt: skip
                for name in READ_INDEXES:
                    conn.execute(f"drop index if exists public.{name}")
            seconds = sum(
                load(stack.dsn, tenant, instance, args.conversations, args.messages_per)
                for tenant, instance in ((stack.demo.tenant_id, stack.demo.instance_id), (OTHER_TENANT, OTHER_INSTANCE))
            )
            started = time.monotonic()
            with psycopg.connect(stack.dsn, autocommit=True) as conn:
                seed_tenant(conn, tenant_id=stack.demo.tenant_id, name="Loja Demo", user_id=READER,
                            email="leitor@bench.local", role="agent")  # fmt: skip
                conn.execute(LOAD_READS, {"tenant": stack.demo.tenant_id, "user": READER})
                for sql in READ_INDEXES.values():
                    conn.execute(sql)
                conn.execute("vacuum analyze")
                total = conn.execute("select count(*) from public.messages").fetchone()
            indexed = time.monotonic() - started
            print(f"loaded 2 tenants x {args.conversations:,} conversations, {total[0] if total else 0:,} messages"
                  f" in {seconds:.1f} s; indexes built and analyzed in {indexed:.1f} s")  # fmt: skip
            token = mint_token(stack.secrets.jwt_secret, sub=stack.demo.user_id)
            base = stack.proxy_url
            results: dict[str, Any] = {"bench": "inbox", "conversations_per_tenant": args.conversations,
                                       "messages": total[0] if total else 0}  # fmt: skip
            reader = httpx.Client(
                headers={"Authorization": f"Bearer {mint_token(stack.secrets.jwt_secret, sub=READER)}"}, timeout=60
            )
            with reader, httpx.Client(headers={"Authorization": f"Bearer {token}"}, timeout=60) as client:
                ids = [i["id"] for i in timed(client, f"{base}/conversations", {"limit": "100"})[1]["items"]]
                for _ in range(5):  # warm-up: connections, caches, JWT keys
                    timed(client, f"{base}/conversations")
                cases: dict[str, Any] = {
                    "inbox_first_page": lambda: timed(client, f"{base}/conversations"),
                    "inbox_unread_page": lambda: timed(client, f"{base}/conversations", {"unread": "true"}),
                    "inbox_unread_page_reader": lambda: timed(reader, f"{base}/conversations", {"unread": "true"}),
                    "history_page": lambda: timed(client, f"{base}/conversations/{rng.choice(ids)}/messages"),
                    "history_next_page": lambda: _next_history(client, base, rng.choice(ids)),
                    "search_frequent_word": lambda: timed(client, f"{base}/search", {"q": SEARCHES[0]}),
                    "search_rare_word": lambda: timed(client, f"{base}/search", {"q": SEARCHES[1]}),
                    "search_two_words": lambda: timed(client, f"{base}/search", {"q": SEARCHES[2]}),
                }
                for name, call in cases.items():
                    samples = [call()[0] for _ in range(args.requests)]
                    results[name] = figures(samples)
                    print(f"{name:>24}: p50 {results[name]['p50_ms']:.1f} ms, p95 {results[name]['p95_ms']:.1f} ms,"
                          f" max {results[name]['max_ms']:.1f} ms ({args.requests} requests)")  # fmt: skip
            user = stack.demo.user_id
            now = datetime.now(UTC)
            unread = conversations_sql(InboxQuery(limit=50, now=now, unread=True))
            plans = {
                "inbox page": (*conversations_sql(InboxQuery(limit=50, now=now)), user),
                "inbox page, unread, the agent who read 9 in 10": (*unread, READER),
                "history page": (
                    "select id from public.messages where conversation_id = %s"
                    " order by occurred_at desc, id desc limit 51",
                    [ids[0]],
                    user,
                ),
            }
            for label, (sql, sql_args, who) in plans.items():
                print(f"plan ({label}):")
                for line in index_lines(explain(stack.dsn, who, sql, sql_args)):
                    print(f"    {line}")
            tenant = stack.demo.tenant_id
            for words in SEARCHES:  # the two statements of public.search_messages, as its body runs them
                with psycopg.connect(stack.dsn) as conn:
                    walk = [bool(r[1]) for r in conn.execute(SEARCH_WALK, [words, tenant]).fetchall()]
                probed, hits = sum(walk[:PROBE_ROWS]), sum(walk)
                if hits >= 21 and probed * WALK_ROWS >= 21 * PROBE_ROWS:
                    path = "a first page from the walk alone"
                else:
                    path = "the text index finds the rest"
                print(f"search {words!r}: {probed} matches in the newest {PROBE_ROWS} messages, {hits} in the"
                      f" newest {WALK_ROWS:,}: {path}")  # fmt: skip
                results[f"walk_matches {words}"] = [probed, hits]
                for label, sql in ((f"walk, up to {WALK_ROWS:,} rows", SEARCH_WALK), ("text index", SEARCH_INDEX)):
                    if label == "text index" and path.startswith("a first page"):
                        continue
                    print(f"  plan ({label}):")
                    for line in index_lines(explain(stack.dsn, user, sql, [words, tenant], definer=True)):
                        print(f"    {line}")
        finally:
            stack.stop()
    print(json.dumps(results))
    return 0


def _next_history(client: httpx.Client, base: str, conversation_id: str) -> tuple[float, Any]:
    _, first = timed(client, f"{base}/conversations/{conversation_id}/messages")
    return timed(client, f"{base}/conversations/{conversation_id}/messages", {"before": first["next_cursor"]})


if __name__ == "__main__":
    raise SystemExit(main())
