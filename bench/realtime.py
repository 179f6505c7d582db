"""Webhook POST -> ``message_created`` received by an official Supabase client, on the local stack.

    ponte bench realtime [--messages 500] [--rate 5] [--warmup 20]

Starts the whole local stack (its own PostgreSQL cluster in a temporary folder, local SQS,
proxy, queue poller, realtime server), subscribes the official realtime-py client as a
member of the demo tenant to its private topic ``tenant:<id>``, then posts Evolution
``messages.upsert`` webhooks to the proxy at a fixed rate (open loop: a post does not wait
for the previous event). Latency = from the start of the POST to the client's callback for
that message, through: proxy (auth, normalize, privacy gate) -> SQS -> poller -> ingest
function (contact, conversation, message, lead in one transaction) -> trigger ->
realtime.send -> NOTIFY at commit -> realtime server -> websocket -> client.

The client runs in this process, beside the stack's threads (one GIL): a browser would not
share it. PostgreSQL runs with fsync off (the stack's throwaway setting).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import statistics
import tempfile
import time
import uuid
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
from realtime import AsyncRealtimeClient

from ponte.localstack.stack import LocalStack
from ponte.services.intake import SECRET_HEADER

DEMO = Path(__file__).resolve().parents[1] / "ponte" / "localstack" / "demo" / "evolution"
PAYLOAD = DEMO / "messages.upsert__text-inbound-v2__01.json"


def webhook(run: str, i: int) -> bytes:
    payload = json.loads(PAYLOAD.read_bytes())
    payload["data"]["key"]["id"] = f"BENCH{run}{i:06d}".upper()
    payload["data"]["message"]["conversation"] = f"bench {run} {i}"
    return json.dumps(payload).encode()


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


Timings = tuple[dict[int, float], dict[int, float], dict[int, float]]


async def measure(stack: LocalStack, count: int, rate: float, first: int) -> Timings:
    assert stack.demo is not None
    run = uuid.uuid4().hex[:6]
    received: dict[int, float] = {}
    sent: dict[int, float] = {}
    stored: dict[int, float] = {}  # the ingest transaction's start (created_at), same clock as time.time()

    def on_message(event: Any) -> None:
        body = str(event["payload"].get("body") or "")
        parts = body.split(" ")
        if len(parts) == 3 and parts[0] == "bench" and parts[1] == run:
            received[int(parts[2])] = time.time()
            stored[int(parts[2])] = datetime.fromisoformat(str(event["payload"]["created_at"])).timestamp()

    client = AsyncRealtimeClient(f"{stack.supabase_url}/realtime/v1", token=stack.anon_key(), auto_reconnect=False)
    await client.connect()
    await client.set_auth(stack.demo_token())
    channel = client.channel(f"tenant:{stack.demo.tenant_id}", {"config": {"private": True}})  # type: ignore[arg-type]
    channel.on_broadcast("message_created", on_message)
    joined = asyncio.Event()
    await channel.subscribe(lambda state, _err: joined.set() if str(state.value) == "SUBSCRIBED" else None)
    await asyncio.wait_for(joined.wait(), 10)
    headers = {"Content-Type": "application/json", SECRET_HEADER: stack.secrets.demo_webhook_secret}
    async with httpx.AsyncClient(timeout=30) as http:

        async def post(i: int) -> None:
            body = webhook(run, i)
            sent[i] = time.time()
            response = await http.post(stack.webhook_url(), content=body, headers=headers)
            if response.status_code != 200:
                raise RuntimeError(f"webhook {i}: HTTP {response.status_code} {response.text}")

        tasks = []
        started = time.perf_counter()
        for n in range(count):
            i = first + n
            tasks.append(asyncio.create_task(post(i)))
            await asyncio.sleep(max(0.0, started + (n + 1) / rate - time.perf_counter()))
        await asyncio.gather(*tasks)
    deadline = time.perf_counter() + 30
    while len([i for i in sent if i in received]) < len(sent) and time.perf_counter() < deadline:
        await asyncio.sleep(0.05)
    await client.close()
    return sent, stored, received


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="ponte bench realtime")
    parser.add_argument("--messages", type=int, default=500)
    parser.add_argument("--rate", type=float, default=5.0, help="webhooks per second (open loop)")
    parser.add_argument("--warmup", type=int, default=20)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="ponte-bench-rt-") as tmp:
        stack = LocalStack(state_dir=Path(tmp) / "state", proxy_port=0, keep_data=False).start()
        try:
            asyncio.run(measure(stack, args.warmup, args.rate, first=0))
            load_before = os.getloadavg()[0]
            sent, stored, received = asyncio.run(measure(stack, args.messages, args.rate, first=args.warmup))
        finally:
            stack.stop()
    latencies = [(received[i] - sent[i]) * 1000 for i in sent if i in received]
    to_store = [(stored[i] - sent[i]) * 1000 for i in sent if i in received]
    to_client = [(received[i] - stored[i]) * 1000 for i in sent if i in received]
    lost = len(sent) - len(latencies)
    print(f"python {platform.python_version()}; {os.cpu_count()} CPUs; load average before: {load_before:.2f}")
    print(f"webhook POST -> realtime-py message_created on private tenant topic, {args.rate:g} msg/s open loop")
    if not latencies:
        print(f"no event received out of {len(sent)}")
        return 1
    print(
        f"messages {len(sent)}  received {len(latencies)}  lost {lost}\n"
        f"latency ms: p50 {statistics.median(latencies):.1f}  p95 {percentile(latencies, 0.95):.1f}"
        f"  p99 {percentile(latencies, 0.99):.1f}  max {max(latencies):.1f}  mean {statistics.fmean(latencies):.1f}"
    )
    print(
        f"  of which POST -> ingest transaction start: p50 {statistics.median(to_store):.1f}"
        f"  p95 {percentile(to_store, 0.95):.1f}\n"
        f"  and ingest transaction start -> client (commit, NOTIFY, server, websocket):"
        f" p50 {statistics.median(to_client):.1f}  p95 {percentile(to_client, 0.95):.1f}"
    )
    return 0 if lost == 0 else 1
