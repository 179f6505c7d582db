"""``ponte up``: start the local stack; ``--demo`` replays sample payloads and shows the inbox."""

from __future__ import annotations

import argparse
import logging
import os
import shlex
import signal
import sys
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx

from ponte.domain.masking import mask_phones
from ponte.domain.realtime import tenant_admin_topic, tenant_topic
from ponte.localstack.demo_inbox import demo_payloads
from ponte.localstack.seed import DEMO_AGENT_EMAIL
from ponte.localstack.stack import DEFAULT_STATE_DIR, LocalStack
from ponte.services.intake import SECRET_HEADER

LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")
SERVICES = ("ponte-proxy", "ponte-functions", "ponte-local")


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
    p.add_argument(
        "--receivers", type=int, default=2, help="concurrent receivers of the ingest queue (Lambda's concurrency)"
    )
    p.add_argument(
        "--ingest-only",
        action="store_true",
        help="store messages without their analysis, lifecycle and media jobs (to benchmark the ingest path)",
    )
    p.add_argument("--verbose", action="store_true", help="also log every proxy request line")
    p.add_argument(
        "--log-level",
        choices=LOG_LEVELS,
        default=os.environ.get("POWERTOOLS_LOG_LEVEL", "WARNING").upper(),
        help="the services' log level: WARNING (or POWERTOOLS_LOG_LEVEL) by default, INFO shows each event",
    )
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    for service in SERVICES:  # their Powertools loggers exist from import; the flag wins over the env
        logging.getLogger(service).setLevel(args.log_level)
    stack = LocalStack(
        state_dir=args.state_dir,
        proxy_port=args.port,
        realtime_port=args.realtime_port,
        run_worker=not args.no_worker,
        ingest_receivers=max(1, args.receivers),
        ingest_only=args.ingest_only,
        verbose=args.verbose,
    )
    failure: str | None = None
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
        print(f"  instance      {stack.demo.instance_id} ({stack.demo.provider}, wired to the fake gateway)")
        print(f"  cloud api     {stack.demo.cloud_instance_id} (phone_number_id {stack.demo.cloud_phone_number_id},")
        print(f"                the fake gateway's Graph API) webhook {stack.cloud_webhook_url()}")
        print(f"                verify token and app secret: see {args.state_dir}/local-secrets.json")
        tenant = stack.demo.tenant_id
        print(f"  topics        {tenant_topic(tenant)}  (admins also {tenant_admin_topic(tenant)})")
        print(f"  owner         {stack.demo.user_email}")
        print(f"  agent         {DEMO_AGENT_EMAIL}")
        print(f"  owner JWT     {stack.demo_token(ttl_seconds=8 * 3600)}")
        print(f"                8 h; another: ponte token [--role agent] [--ttl 2d] --state-dir {args.state_dir}")
        print(f"  deep link     ponte deeplink --phone '+55 11 98765-4321' --state-dir {args.state_dir}")
        print("  the inbox     " + inbox_curl(stack.proxy_url, args.state_dir))
        print(f"  web inbox     {inbox_line(stack)}")
        if args.demo:
            run_demo(stack)
            print(f"\nThe web inbox, signed in as {stack.demo.user_email} (8 h): {inbox_line(stack)}")
        if not args.exit:
            print("Ctrl-C to stop.")
            failure = wait_until_stopped(stack, stop)
    except KeyboardInterrupt:
        pass
    finally:
        stack.stop()
        print("stopped")
    if failure:
        print(f"ponte up: {failure}", file=sys.stderr)
        return 1
    return 0


def inbox_curl(proxy_url: str, state_dir: Path) -> str:
    """One line to paste: the owner's first inbox page, with a fresh token."""
    token = f"$(ponte token --state-dir {shlex.quote(str(state_dir))})"
    return f'curl -s -H "Authorization: Bearer {token}" {proxy_url}/conversations'


def inbox_line(stack: LocalStack) -> str:
    """The reference web inbox with the owner's token in the fragment (never sent to a server)."""
    if not stack.inbox_built():
        return f"{stack.inbox_url} (not built yet: make inbox)"
    return f"{stack.inbox_url}#access_token={stack.demo_token(ttl_seconds=8 * 3600)}"


def wait_until_stopped(stack: LocalStack, stop: threading.Event) -> str | None:
    """Until Ctrl-C or SIGTERM, or the supervisor gives up on a child: then why."""
    while not stop.wait(0.5):
        if stack.supervisor is not None and stack.supervisor.failed.is_set():
            return stack.supervisor.failure
    return None


def run_demo(stack: LocalStack) -> None:
    """Post the demo's webhooks (timed relative to now), then show the inbox the owner's frontend reads."""
    assert stack.demo is not None
    payloads = demo_payloads(datetime.now(UTC))
    url = stack.webhook_url()
    print(f"\nDemo: posting {len(payloads)} gateway webhooks to {url}")
    token = stack.demo_token()
    with httpx.Client(timeout=30) as client:
        for body in payloads:
            response = client.post(url, json=body, headers={SECRET_HEADER: stack.secrets.demo_webhook_secret})
            outcome = response.json().get("outcome") if response.is_success else response.text[:120]
            print(f"  {body['data']['pushName']}: HTTP {response.status_code} {outcome}")
        oldest = datetime.fromtimestamp(min(b["data"]["messageTimestamp"] for b in payloads), UTC)
        page = wait_for_inbox(client, stack.proxy_url, token, oldest, len(payloads))
    print(f"\nGET /conversations as {stack.demo.user_email}: {len(page)} conversation(s), newest activity first")
    now = datetime.now(UTC)
    for item in page:
        due = datetime.fromisoformat(item["sla_due_at"]) if item["sla_due_at"] else None
        sla = "no SLA" if due is None else ("SLA BREACHED" if item["sla_breached"] else f"SLA in {minutes(due - now)}")
        analysis = item["analysis"] or {}
        labels = f"{analysis.get('intent', '-')}/{analysis.get('sentiment', '-')}"
        last = item["last_message"] or {}
        print(
            f"  {item['priority']:<8} {sla:<20} {labels:<28} {item['contact']['display_name']}: {last.get('preview')}"
        )
    print_leads_and_analyses(stack)


def wait_for_inbox(
    client: httpx.Client, proxy_url: str, token: str, since: datetime, expected: int
) -> list[dict[str, Any]]:
    """The inbox once ``expected`` conversations active ``since`` are analysed (or after 30 s)."""
    deadline = time.monotonic() + 30
    items: list[dict[str, Any]] = []
    while time.monotonic() < deadline:
        response = client.get(f"{proxy_url}/conversations", headers={"Authorization": f"Bearer {token}"})
        items = response.json()["items"] if response.is_success else []
        fresh = [i for i in items if datetime.fromisoformat(i["last_activity_at"]) >= since and i["analysis"]]
        if len(fresh) >= expected:
            break
        time.sleep(0.3)
    return items


def minutes(delta: timedelta) -> str:
    hours, mins = divmod(max(0, round(delta.total_seconds() / 60)), 60)
    return f"{hours} h {mins:02d} min" if hours else f"{mins} min"


def print_leads_and_analyses(stack: LocalStack) -> None:
    """The leads the demo created and how the latest inbound texts were analysed (degraded without a worker)."""
    assert stack.db is not None and stack.demo is not None
    claims = {"sub": stack.demo.user_id, "role": "authenticated", "email": stack.demo.user_email}
    with stack.db.as_user(claims) as conn:
        leads = conn.execute(
            "select c.phone_e164, l.source, cu.name as customer, l.score, l.priority from public.leads l"
            " join public.contacts c on c.id = l.contact_id left join public.customers cu on cu.id = l.customer_id"
            " order by l.created_at"
        ).fetchall()
        suggestions = conn.execute(
            "select distinct on (m.conversation_id) c.display_name, s.text, a.degraded"
            " from public.message_analyses a join public.messages m on m.id = a.message_id"
            " join public.contacts c on c.id = m.contact_id"
            " left join public.reply_suggestions s on s.message_id = a.message_id"
            " order by m.conversation_id, m.occurred_at desc"
        ).fetchall()
    print(f"\nLeads: {len(leads)}")
    for r in leads:
        match = f"ERP customer {r['customer']}" if r["customer"] else "no ERP match"
        phone = mask_phones(r["phone_e164"])
        print(f"  {phone}  source={r['source']}  {match}  score={r['score']}  priority={r['priority']}")
    degraded = sum(1 for r in suggestions if r["degraded"])
    mode = f"{degraded} degraded (no worker reached)" if degraded else "all by the inference worker"
    print(f"\nReply suggestions for the agents (never sent without them; analyses: {mode})")
    for r in suggestions:
        if r["text"]:
            print(f"  {r['display_name']}: {r['text']}")
