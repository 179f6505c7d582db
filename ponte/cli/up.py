"""``ponte up``: start the local stack; ``--demo`` replays sample payloads and shows the inbox."""

from __future__ import annotations

import argparse
import signal
import threading
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ponte.cli.replay import ReplayTarget, payload_files, replay
from ponte.domain.realtime import tenant_admin_topic, tenant_topic
from ponte.localstack.seed import DEMO_AGENT_EMAIL
from ponte.localstack.stack import DEFAULT_STATE_DIR, LocalStack

DEMO_PAYLOADS = Path(__file__).resolve().parents[1] / "localstack" / "demo"


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("up", help="start the local stack (Ctrl-C stops it)")
    p.add_argument("--state-dir", type=Path, default=DEFAULT_STATE_DIR)
    p.add_argument("--port", type=int, default=8787, help="proxy port (0 = any free port)")
    p.add_argument(
        "--realtime-port", type=int, default=54321, help="realtime server port, Supabase's usual one (0 = any)"
    )
    p.add_argument("--demo", action="store_true", help="replay the demo payloads and print the inbox")
    p.add_argument("--exit", action="store_true", help="stop after start-up (and the demo)")
    p.add_argument("--no-worker", action="store_true", help="do not start the inference worker")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    stack = LocalStack(
        state_dir=args.state_dir,
        proxy_port=args.port,
        realtime_port=args.realtime_port,
        run_worker=not args.no_worker,
    )
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    try:
        stack.start()
        print(f"Ponte local stack up in {stack.started_in:.2f}s")
        print(f"  proxy         {stack.proxy_url}")
        print(f"  webhook       {stack.webhook_url()}")
        print(f"                header x-ponte-webhook-secret: see {args.state_dir}/local-secrets.json")
        print(f"  database      {stack.dsn}")
        print(f"  sqs endpoint  {stack.moto.url if stack.moto else '-'}")
        worker = stack.worker.url if stack.worker else "not running (install the worker extra): degraded analyses"
        print(f"  worker        {worker}")
        assert stack.realtime is not None
        print(f"  realtime      {stack.realtime.websocket_url}")
        print(f"                supabase-js: createClient('{stack.supabase_url}', <anon key>)")
        print(f"  anon key      {stack.anon_key()}")
        assert stack.demo is not None
        print(f"  demo tenant   {stack.demo.tenant_id} (Loja Demo)")
        tenant = stack.demo.tenant_id
        print(f"  topics        {tenant_topic(tenant)}  (admins also {tenant_admin_topic(tenant)})")
        print(f"  owner         {stack.demo.user_email}")
        print(f"  agent         {DEMO_AGENT_EMAIL}")
        print(f"  owner JWT     {stack.demo_token(ttl_seconds=8 * 3600)}")
        print(f"                8 h; another: ponte token [--role agent] [--ttl 2d] --state-dir {args.state_dir}")
        print(f"  deep link     ponte deeplink --phone '+55 11 98765-4321' --state-dir {args.state_dir}")
        if args.demo:
            run_demo(stack)
        if not args.exit:
            print("Ctrl-C to stop.")
            while not stop.wait(0.5):
                pass
    except KeyboardInterrupt:
        pass
    finally:
        stack.stop()
        print("stopped")
    return 0


def run_demo(stack: LocalStack) -> None:
    assert stack.demo is not None and stack.db is not None
    target = ReplayTarget(
        stack.proxy_url, {stack.demo.provider: (stack.demo.instance_id, stack.secrets.demo_webhook_secret)}
    )
    files = payload_files(DEMO_PAYLOADS)
    print(f"\nDemo: posting {len(files)} gateway payload(s) to the proxy")
    for row in replay(files, target):
        print(f"  {Path(str(row['file'])).name}: HTTP {row['status']} {row.get('outcome')}")
    claims = {"sub": stack.demo.user_id, "role": "authenticated", "email": stack.demo.user_email}
    deadline = time.monotonic() + 15
    rows: list[dict[str, object]] = []
    while time.monotonic() < deadline:
        with stack.db.as_user(claims) as conn:
            rows = conn.execute(
                "select c.phone_e164, c.display_name, m.direction, m.body, m.occurred_at"
                " from public.messages m join public.contacts c on c.id = m.contact_id"
                " order by m.occurred_at"
            ).fetchall()
        if len(rows) >= len(files):
            break
        time.sleep(0.2)
    print(f"\nInbox of the demo tenant, read through RLS as {stack.demo.user_email}: {len(rows)} message(s)")
    for r in rows:
        when = f"{r['occurred_at']:%Y-%m-%d %H:%M}Z"
        print(f"  {when}  {r['phone_e164']}  {r['display_name']}  [{r['direction']}]  {r['body']}")
    print_leads_and_analyses(stack, claims, expected=len(rows))


def print_leads_and_analyses(stack: LocalStack, claims: Mapping[str, Any], expected: int) -> None:
    """The leads the demo created and each inbound text's analysis (degraded while no worker runs)."""
    assert stack.db is not None
    deadline = time.monotonic() + 15
    analyses: list[dict[str, object]] = []
    while time.monotonic() < deadline:
        with stack.db.as_user(claims) as conn:
            analyses = conn.execute(
                "select c.phone_e164, a.intent, a.sentiment, a.score, a.priority, a.sla_due_at, a.degraded,"
                " s.text as suggestion from public.message_analyses a"
                " join public.messages m on m.id = a.message_id join public.contacts c on c.id = m.contact_id"
                " left join public.reply_suggestions s on s.message_id = a.message_id order by m.occurred_at"
            ).fetchall()
        if len(analyses) >= expected:
            break
        time.sleep(0.2)
    with stack.db.as_user(claims) as conn:
        leads = conn.execute(
            "select c.phone_e164, l.source, cu.name as customer, l.score, l.priority from public.leads l"
            " join public.contacts c on c.id = l.contact_id left join public.customers cu on cu.id = l.customer_id"
            " order by l.created_at"
        ).fetchall()
    print(f"\nLeads: {len(leads)}")
    for r in leads:
        match = f"ERP customer {r['customer']}" if r["customer"] else "no ERP match"
        print(f"  {r['phone_e164']}  source={r['source']}  {match}  score={r['score']}  priority={r['priority']}")
    print(f"\nAnalyses: {len(analyses)}")
    for r in analyses:
        mode = "degraded (no worker reached)" if r["degraded"] else "full"
        print(
            f"  {r['phone_e164']}  {r['intent']}/{r['sentiment']}  score={r['score']}  priority={r['priority']}"
            f"  SLA {r['sla_due_at']:%Y-%m-%d %H:%M}Z  {mode}"
        )
        if r["suggestion"]:
            print(f"    suggestion for the agent (not sent): {r['suggestion']}")
