"""The campaign send path on the local stack: jobs/s from the queue to the fake gateway.

    ponte bench campaign [--recipients 2000] [--instances 4] [--receivers 4] [--scale 1e-6] [--acks]

Starts the local stack (PostgreSQL, moto's SQS, the proxy, the pollers, the fake gateway),
creates ``--instances`` Evolution instances of the demo tenant wired to the fake gateway and
``--recipients`` contacts spread over them, and runs one campaign per instance through the HTTP
routes (create, preview, approve, start). The throttle runs at ``--scale`` of its durations
(1e-6: no waiting, the send path itself is measured; 1: production pacing). Each send is the
whole path: the tick plans slots and enqueues one job per recipient, a poller receives it, the
job claims its recipient, checks opt-outs and the hidden list, takes the instance's turn and
sends through the outbox to the gateway. The fake gateway posts Evolution's ``send.message`` echo of
each send back to the proxy (ingested as the stack runs; ``--no-echoes``: not even that, the campaign
path alone); ``--acks`` adds the delivery and read acks (three more webhooks per send). The local
stack runs the proxy, the pollers and the functions in one Python process: its GIL is the ceiling
here, where Lambda runs each function in its own.

Prints sends/s (start to last receive), per-instance receive rate, the time from a job's slot
to its receive (p50/p95), and checks that every recipient got exactly one message. Last line: JSON.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import platform
import statistics
import tempfile
import time
import uuid
from collections import Counter
from pathlib import Path
from typing import Any

import httpx
import psycopg

from ponte.localstack.jwt_tokens import mint_token
from ponte.localstack.stack import LocalStack

INSTRUCTION = "responda SAIR."


def seed(stack: LocalStack, instances: int, recipients: int) -> list[tuple[str, str]]:
    """(instance id, tag) per instance; ``recipients`` contacts with open leads spread over the tags."""
    assert stack.demo is not None and stack.gateway is not None
    tenant = stack.demo.tenant_id
    made: list[tuple[str, str]] = []
    with psycopg.connect(stack.dsn, autocommit=True) as conn:
        for i in range(instances):
            instance = stack.demo.instance_id if i == 0 else str(uuid.uuid4())
            if i:
                conn.execute(
                    "insert into public.whatsapp_instances (id, tenant_id, provider, gateway_instance,"
                    " webhook_secret_hash) values (%s, %s, 'evolution', %s, 'bench')",
                    (instance, tenant, f"bench{i}"),
                )
            made.append((instance, f"lote{i}"))
        phones = [f"+55119{60000000 + n:08d}" for n in range(recipients)]
        tags = [made[n % instances][1] for n in range(recipients)]
        conn.execute(
            "with c as (insert into public.contacts (tenant_id, identity_key, phone_e164, display_name)"
            " select %s, p, p, 'Cliente ' || right(p, 4) from unnest(%s::text[]) p returning id, phone_e164)"
            ", t as (insert into public.contact_tags (tenant_id, contact_id, tag)"
            "   select %s, c.id, x.t from c join unnest(%s::text[], %s::text[]) x(p, t) on x.p = c.phone_e164)"
            " insert into public.leads (tenant_id, contact_id, status) select %s, id, 'open' from c",
            (tenant, phones, tenant, phones, tags, tenant),
        )
    stack.gateway.wire(again=False)
    return made


def run(stack: LocalStack, args: argparse.Namespace) -> dict[str, Any]:
    assert stack.demo is not None and stack.gateway is not None
    stack.gateway.fake.acks = args.acks
    stack.gateway.fake.echoes = not args.no_echoes
    token = mint_token(stack.secrets.jwt_secret, sub=stack.demo.user_id)
    api = httpx.Client(base_url=stack.proxy_url, headers={"Authorization": f"Bearer {token}"}, timeout=120)
    never_quiet = {"start": "09:00:00", "end": "09:00:00", "days_off": []}
    body = {"settings": {"quiet_hours": never_quiet, "unofficial_daily_cap": 5000}}
    api.put("/campaign-settings", json=body).raise_for_status()
    made = seed(stack, args.instances, args.recipients)
    ids = []
    for instance, tag in made:
        request = {
            "name": f"Bench {tag}",
            "instance_id": instance,
            "audience": {"kind": "segment", "segment": {"tags_any": [tag]}},
            "message": {"variants": ["Olá {{nome}}! Aproveite nossa promoção de fim de ano."]},
        }
        created = api.post("/campaigns", json=request)
        created.raise_for_status()
        campaign = created.json()["id"]
        preview = api.post(f"/campaigns/{campaign}/preview", json={}).json()
        api.post(f"/campaigns/{campaign}/approve", json={"content_hash": preview["content_hash"]}).raise_for_status()
        ids.append(campaign)
    started_wall = time.time()
    started = time.monotonic()
    for campaign in ids:
        api.post(f"/campaigns/{campaign}/start").raise_for_status()
    deadline = started + args.timeout
    while time.monotonic() < deadline:
        statuses = [api.get(f"/campaigns/{c}").json()["status"] for c in ids]
        if all(s == "completed" for s in statuses):
            break
        time.sleep(0.2)
    else:
        raise SystemExit(f"the campaigns did not complete in {args.timeout} s")
    elapsed = time.monotonic() - started
    receipts = [r for s in stack.gateway.fake.sessions.values() for r in s.receipts if r.text.endswith(INSTRUCTION)]
    per_number = Counter(r.to for r in receipts)
    if len(per_number) != args.recipients or max(per_number.values()) != 1:
        raise SystemExit(f"{len(per_number)} numbers reached of {args.recipients}, most messages to one: "
                         f"{max(per_number.values())}")  # fmt: skip
    last = max(r.at for r in receipts)
    with psycopg.connect(stack.dsn) as conn:
        lags = [
            row[0]
            for row in conn.execute(
                "select extract(epoch from sent_at - slot_at) from public.campaign_recipients"
                " where campaign_id = any(%s::uuid[]) and slot_at is not null",
                (ids,),
            )
        ]
    rate = args.recipients / (last - started_wall)
    gaps = []
    for session in stack.gateway.fake.sessions.values():
        times = sorted(r.at for r in session.receipts if r.text.endswith(INSTRUCTION))
        gaps += [b - a for a, b in itertools.pairwise(times)]
    per_instance = [
        len([r for r in s.receipts if r.text.endswith(INSTRUCTION)]) / (last - started_wall)
        for s in stack.gateway.fake.sessions.values()
        if s.receipts
    ]
    return {
        "bench": "campaign",
        "recipients": args.recipients,
        "instances": args.instances,
        "receivers": args.receivers,
        "scale": args.scale,
        "acks": args.acks,
        "echoes": not args.no_echoes,
        "sends_per_second": round(rate, 1),
        "per_instance_per_second": round(statistics.median(per_instance), 1),
        "slot_to_sent_p50_ms": round(1000 * statistics.median(float(x) for x in lags), 1),
        "slot_to_sent_p95_ms": round(1000 * statistics.quantiles([float(x) for x in lags], n=20)[-1], 1),
        "completed_in_s": round(elapsed, 1),
        "gap_median_ms": round(1000 * statistics.median(gaps), 1) if gaps else None,
        "gap_min_ms": round(1000 * min(gaps), 1) if gaps else None,
        "load_average": round(os.getloadavg()[0], 2),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="ponte bench campaign", description=__doc__)
    parser.add_argument("--recipients", type=int, default=2000)
    parser.add_argument("--instances", type=int, default=4)
    parser.add_argument("--receivers", type=int, default=4, help="poller threads on the campaign queue")
    parser.add_argument("--scale", type=float, default=1e-6, help="throttle durations times this")
    parser.add_argument("--tick", type=float, default=0.2, help="seconds between campaign ticks")
    parser.add_argument("--acks", action="store_true", help="the fake gateway posts delivery and read acks")
    parser.add_argument("--no-echoes", action="store_true", help="no send.message echo either: the campaign path alone")
    parser.add_argument("--timeout", type=float, default=600)
    args = parser.parse_args(argv)
    print(f"python {platform.python_version()}; {platform.machine()}; {os.cpu_count()} CPUs;"
          f" load average {os.getloadavg()[0]:.2f}")  # fmt: skip
    with tempfile.TemporaryDirectory(prefix="ponte-bench-campaign-") as tmp:
        stack = LocalStack(
            state_dir=Path(tmp) / "state",
            proxy_port=0,
            keep_data=False,
            overrides={"campaign_time_scale": args.scale, "campaign_tick_seconds": args.tick},
            campaign_receivers=args.receivers,
        ).start()
        try:
            results = run(stack, args)
        finally:
            stack.stop()
    print(f"{results['recipients']:,} recipients over {results['instances']} instances, {results['receivers']}"
          f" receivers, throttle x{results['scale']}: {results['sends_per_second']} sends/s"
          f" ({results['per_instance_per_second']}/s per instance), all in {results['completed_in_s']} s")  # fmt: skip
    print(
        f"slot to sent: p50 {results['slot_to_sent_p50_ms']} ms, p95 {results['slot_to_sent_p95_ms']} ms;"
        f" gaps between one instance's sends at the gateway: median {results['gap_median_ms']} ms,"
        f" min {results['gap_min_ms']} ms; every number got exactly one message"
    )
    print(json.dumps(results))
    return 0
