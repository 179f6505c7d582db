"""``ponte bench ingest`` through HTTP: the local stack, driven through its webhook route.

The stack runs as ``ponte up`` does, in a process of its own (or the one ``--stack`` names); this
process only sends webhooks (asyncio + httpx, keep-alive connections), and a supabase-js client in
a Node process (``tests/js/latency_probe.mjs``) subscribes to the tenant's private topic and stamps
every ``message_created`` it receives. The traffic mixes real Evolution and WPPConnect shapes:
texts from returning contacts (a warmed-up pool) and from new ones, outbound echoes, acks, edits
and redeliveries. Every new message carries a marker in its text, so each one's send time is
matched with the time its row was stored (``messages.created_at``) and the time the client got it.
At the end, with the queues drained, every message expected is looked up: lost and duplicated
counts must be 0.
"""

from __future__ import annotations

import asyncio
import json
import os
import platform
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import h11
import httpx
import psycopg

from ponte.localstack.jwt_tokens import mint_token
from ponte.localstack.sqs import sqs_client
from ponte.services.intake import SECRET_HEADER
from proxy import providers

ROOT = Path(__file__).resolve().parents[1]
PROBE = ROOT / "tests" / "js" / "latency_probe.mjs"
TEXTS = [
    "Oi! Quanto custa o plano de 300 mega?",
    "Minha internet caiu de novo desde ontem",
    "Segue o comprovante do pix",
    "vcs entregam no sabado?",
    "quero cancelar meu plano",
]


@dataclass
class Post:
    """One webhook to send: its URL, body and headers, and the message ids it must leave stored."""

    url: str
    body: bytes
    headers: dict[str, str]
    marker: str | None = None  # the text marker of a new message (latency to storage and realtime)
    new_ids: tuple[str, ...] = ()
    sent_at: float = 0.0
    status: int = 0
    error: str | None = None


@dataclass
class Traffic:
    run: str
    evolution_url: str
    evolution_secret: str
    wpp_url: str
    posts: list[Post] = field(default_factory=list)
    next_phone: int = 0

    def phone(self, returning: bool, n: int) -> str:
        if returning:
            return f"55119{70000000 + n % 2000:08d}"
        self.next_phone += 1
        return f"55119{80000000 + self.next_phone:08d}"

    def evolution(self, data: dict[str, Any], event: str) -> bytes:
        return json.dumps({"event": event, "instance": "demo", "data": data, "apikey": None}).encode()

    def text(self, n: int, *, returning: bool, from_me: bool = False, provider: str = "evolution") -> Post:
        marker = f"bench {self.run} {n}"
        text = f"{TEXTS[n % len(TEXTS)]} [{marker}]"
        phone = self.phone(returning, n)
        stamp = int(time.time())
        if provider == "wppconnect":
            jid = f"{phone}@c.us"
            body = {
                "event": "onmessage",
                "session": "bench",
                "id": f"false_{jid}_W{self.run}{n:07d}",
                "body": text,
                "type": "chat",
                "t": stamp,
                "notifyName": f"Cliente {n % 2000}",
                "from": jid,
                "to": "5511900000000@c.us",
                "fromMe": False,
                "chatId": jid,
                "isGroupMsg": False,
                "sender": {"id": jid, "pushname": f"Cliente {n % 2000}"},
            }
            return self._post(self.wpp_url, json.dumps(body).encode(), {}, "wppconnect", marker)
        data = {
            "key": {"remoteJid": f"{phone}@s.whatsapp.net", "fromMe": from_me, "id": f"B{self.run}{n:07d}"},
            "pushName": None if from_me else f"Cliente {n % 2000}",
            "status": "SERVER_ACK" if from_me else "DELIVERY_ACK",
            "message": {"conversation": text},
            "messageType": "conversation",
            "messageTimestamp": stamp,
        }
        return self._post(
            self.evolution_url,
            self.evolution(data, "messages.upsert"),
            {SECRET_HEADER: self.evolution_secret},
            "evolution",
            marker,
        )

    def ack(self, target: str, phone: str) -> Post:
        data = {"keyId": target, "remoteJid": f"{phone}@s.whatsapp.net", "fromMe": True, "status": "READ"}
        body = self.evolution(data, "messages.update")
        return self._post(self.evolution_url, body, {SECRET_HEADER: self.evolution_secret}, "evolution", None)

    def edit(self, target: str, phone: str, n: int) -> Post:
        data = {
            "key": {"remoteJid": f"{phone}@s.whatsapp.net", "fromMe": False, "id": target},
            "type": "MESSAGE_EDIT",
            "editedMessage": {"conversation": f"corrigindo: {TEXTS[n % len(TEXTS)]}"},
            "timestampMs": str(int(time.time() * 1000)),
        }
        body = self.evolution(data, "messages.edited")
        return self._post(self.evolution_url, body, {SECRET_HEADER: self.evolution_secret}, "evolution", None)

    def _post(self, url: str, body: bytes, headers: dict[str, str], provider: str, marker: str | None) -> Post:
        normalized = providers.normalize(provider, json.loads(body), instance="demo")
        assert normalized.outcome.value == "accepted", (provider, normalized)
        ids = tuple(
            getattr(e, "provider_message_id", "") for e in normalized.events if getattr(e, "kind", None) == "text"
        )
        return Post(url, body, {"Content-Type": "application/json", **headers}, marker, ids if marker else ())


def build_traffic(traffic: Traffic, count: int, first: int = 0) -> list[Post]:
    """The mix, per 20 webhooks: 10 texts from returning contacts, 4 from new ones, 2 WPPConnect
    texts, 1 outbound echo, 1 ack of it, 1 edit of an earlier text, 1 redelivery of an earlier one."""
    posts: list[Post] = []
    last_out: tuple[str, str] | None = None
    texts: list[Post] = []
    for n in range(first, first + count):
        slot = n % 20
        if slot < 10:
            post = traffic.text(n, returning=True)
        elif slot < 14:
            post = traffic.text(n, returning=False)
        elif slot < 16:
            post = traffic.text(n, returning=True, provider="wppconnect")
        elif slot == 16:
            post = traffic.text(n, returning=True, from_me=True)
            last_out = (f"B{traffic.run}{n:07d}", traffic.phone(True, n))
        elif slot == 17 and last_out is not None:
            post = traffic.ack(*last_out)
        elif slot == 18 and (inbound := [t for t in texts[-12:] if t.url == traffic.evolution_url]):
            key = json.loads(inbound[0].body)["data"]["key"]
            post = traffic.edit(key["id"], key["remoteJid"].split("@")[0], n)
        elif texts:
            earlier = texts[-3] if len(texts) > 3 else texts[0]
            post = Post(earlier.url, earlier.body, earlier.headers)  # the same body again: nothing new
        else:
            post = traffic.text(n, returning=True)
        if post.marker is not None:
            texts.append(post)
        posts.append(post)
    return posts


async def send_all(posts: list[Post], rate: float | None, connections: int) -> float:
    """Open loop at ``rate`` webhooks/s, or closed loop as fast as ``connections`` go. Returns the
    elapsed time.

    A light client, so that the sender does not take the CPU the stack is measured on (httpx
    spent ~3 ms of CPU per request here): requests are serialized once, written on kept-alive
    connections with asyncio streams, and the answers read with h11 (httpx's own HTTP/1.1 parser).
    Open loop: each post is due at its time; when every connection is busy it waits for one, and
    its latency counts from when it was due (no coordinated omission)."""
    pending: asyncio.Queue[Post | None] = asyncio.Queue()
    started = time.monotonic()
    wall0 = time.time()

    async def connection() -> None:
        target = httpx.URL(posts[0].url)
        reader, writer = await asyncio.open_connection(target.host, target.port)
        parser = h11.Connection(h11.CLIENT)
        while (post := await pending.get()) is not None:
            url = httpx.URL(post.url)
            headers = [("Host", f"{url.host}:{url.port}"), *post.headers.items()]
            request = h11.Request(
                method="POST", target=url.raw_path, headers=[*headers, ("Content-Length", str(len(post.body)))]
            )
            if not post.sent_at:  # closed loop: it counts from when a connection took it
                post.sent_at = time.time()
            out = parser.send(request) or b""
            writer.write(
                out + (parser.send(h11.Data(data=post.body)) or b"") + (parser.send(h11.EndOfMessage()) or b"")
            )
            try:
                while True:
                    event = parser.next_event()
                    if event is h11.NEED_DATA:
                        parser.receive_data(await reader.read(65536))
                    elif isinstance(event, h11.Response):
                        post.status = event.status_code
                    elif isinstance(event, h11.EndOfMessage):
                        break
                parser.start_next_cycle()
            except (h11.RemoteProtocolError, ConnectionError) as exc:
                post.status, post.error = -1, repr(exc)
                writer.close()
                reader, writer = await asyncio.open_connection(target.host, target.port)
                parser = h11.Connection(h11.CLIENT)
        writer.close()

    workers = [asyncio.create_task(connection()) for _ in range(connections)]
    for i, post in enumerate(posts):
        if rate is not None:
            delay = started + i / rate - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
            post.sent_at = wall0 + i / rate
        await pending.put(post)
    for _ in workers:
        await pending.put(None)
    await asyncio.gather(*workers)
    return time.monotonic() - started


def front(stack: dict[str, Any], traffic: Traffic, n: int = 200) -> dict[str, float | None]:
    """The HTTP front alone, sequential on one kept-alive connection: ``GET /health``, a webhook
    refused for a bad secret, and an accepted one (p50 / p95 ms); and what an accepted webhook's
    ``SendMessageBatch`` to the local SQS costs alone (one message, a scratch queue)."""
    figures: dict[str, float | None] = {}
    with httpx.Client(timeout=10) as client:

        def health(i: int) -> object:
            return client.get(f"{stack['proxy_url']}/health")

        def refused(i: int) -> object:
            return client.post(traffic.evolution_url, content=b"{}", headers={SECRET_HEADER: "x"})

        fresh = [traffic.text(-1 - i, returning=True) for i in range(n)]

        def accepted(i: int) -> object:
            return client.post(fresh[i].url, content=fresh[i].body, headers=fresh[i].headers)

        for name, call in (("health", health), ("refused", refused), ("accepted", accepted)):
            times = []
            for i in range(n):
                started = time.perf_counter()
                call(i)
                times.append(time.perf_counter() - started)
            figures[f"{name}_p50_ms"] = ms(percentile(times, 0.5))
            figures[f"{name}_p95_ms"] = ms(percentile(times, 0.95))
    sqs = sqs_client(stack["sqs_endpoint"])
    queue = sqs.create_queue(QueueName=f"ponte-bench-scratch-{traffic.run.lower()}")["QueueUrl"]
    body = fresh[0].body.decode()
    times = []
    for _ in range(n):
        started = time.perf_counter()
        sqs.send_message_batch(QueueUrl=queue, Entries=[{"Id": "0", "MessageBody": body}])
        times.append(time.perf_counter() - started)
    sqs.delete_queue(QueueUrl=queue)
    figures["sqs_send_p50_ms"] = ms(percentile(times, 0.5))
    figures["sqs_send_p95_ms"] = ms(percentile(times, 0.95))
    return figures


class Probe:
    """The supabase-js client in its own process; what it received, by message marker."""

    def __init__(self, state_dir: Path, token: str) -> None:
        env = {**os.environ, "PONTE_TOKEN": token}
        self.proc = subprocess.Popen(
            ["node", str(PROBE), str(state_dir)],
            cwd=ROOT,
            env=env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        self.received: dict[str, float] = {}
        self.ready = threading.Event()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()
        if not self.ready.wait(30):
            raise RuntimeError("the realtime probe did not subscribe")

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            item = json.loads(line)
            if item.get("ready"):
                self.ready.set()
                continue
            body = item.get("body") or ""
            if "[bench " in body:
                self.received.setdefault(body[body.index("[bench ") + 1 : -1], item["t"] / 1000)

    def cpu_seconds(self) -> float:
        return sum(tree_cpu(self.proc.pid).values())

    def stop(self) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.close()
        self.proc.wait(10)
        self._reader.join(5)


def tree_cpu(root: int) -> dict[str, float]:
    """CPU seconds (user + system, reaped children included) of a process and its descendants, by
    component: ``stack`` (the root: proxy, pollers, functions, realtime), ``moto``, ``postgres``,
    and any other child by its command name."""
    ticks = os.sysconf("SC_CLK_TCK")
    children: dict[int, list[int]] = {}
    stats: dict[int, list[str]] = {}
    names: dict[int, str] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            raw = Path(f"/proc/{entry}/stat").read_text()
            command = Path(f"/proc/{entry}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        fields = raw[raw.rindex(")") + 2 :].split()
        stats[int(entry)] = fields
        children.setdefault(int(fields[1]), []).append(int(entry))
        names[int(entry)] = "moto" if "moto.server" in command else raw[raw.index("(") + 1 : raw.rindex(")")]
    totals: dict[str, float] = {}
    todo = [root]
    while todo:
        pid = todo.pop()
        if pid in stats:
            name = "stack" if pid == root else names[pid]
            name = "postgres" if name.startswith("postgres") else name
            totals[name] = totals.get(name, 0.0) + sum(int(x) for x in stats[pid][11:15]) / ticks
        todo += children.get(pid, [])
    return totals


def ms(seconds: float | None) -> float | None:
    return None if seconds is None else round(seconds * 1000, 1)


def percentile(values: list[float], q: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def start_stack(state_dir: Path, receivers: int) -> subprocess.Popen[str]:
    env = {
        **os.environ,
        # one instance carries the whole load here: its event bucket is not what is measured
        "PONTE_INSTANCE_EVENTS_PER_SECOND": "100000",
        "PONTE_INSTANCE_EVENTS_BURST": "1000000",
    }
    # the ingest path alone: no worker, no analysis, lifecycle, media or campaign jobs (other Lambdas on AWS)
    command = ["up", "--state-dir", str(state_dir), "--port", "0", "--no-worker", "--ingest-only"]
    command += ["--receivers", str(receivers)]
    proc = subprocess.Popen(
        [sys.executable, "-m", "ponte.cli.main", *command],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    deadline = time.monotonic() + 180
    while not (state_dir / "stack.json").exists():
        if proc.poll() is not None or time.monotonic() > deadline:
            output = proc.stdout.read() if proc.stdout else ""
            raise RuntimeError(f"the local stack did not start:\n{output[-3000:]}")
        time.sleep(0.2)
    threading.Thread(target=lambda: proc.stdout and proc.stdout.read(), daemon=True).start()
    return proc


def wpp_instance(stack: dict[str, Any], state_dir: Path) -> tuple[str, str]:
    """A WPPConnect instance of the demo tenant, wired by the stack to its fake gateway (which gives
    it its webhook secret): its URL with the secret in the path."""
    instance = str(uuid.uuid4())
    with psycopg.connect(stack["database_url"], autocommit=True) as conn:
        conn.execute(
            "insert into public.whatsapp_instances (id, tenant_id, provider, gateway_instance, webhook_secret_hash)"
            " values (%s, %s, 'wppconnect', %s, 'unset')",
            (instance, stack["tenant_id"], f"bench-{instance[:8]}"),
        )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        path = state_dir / "local-gateways.json"
        wired = json.loads(path.read_text()) if path.exists() else {}
        if instance in wired:
            time.sleep(0.5)  # its new secret's hash is committed with the wiring
            return instance, f"{stack['proxy_url']}/webhooks/wppconnect/{instance}/{wired[instance]['webhook_secret']}"
        time.sleep(0.2)
    raise RuntimeError("the WPPConnect instance was not wired")


def stored(stack: dict[str, Any], ids: set[str]) -> dict[str, tuple[int, float]]:
    """provider message id -> (rows, when the first was stored), for these messages."""
    with psycopg.connect(stack["database_url"]) as conn:
        rows = conn.execute(
            "select provider_message_id, count(*), extract(epoch from min(created_at))::float8"
            " from public.messages where tenant_id = %s and provider_message_id = any(%s) group by 1",
            (stack["tenant_id"], sorted(ids)),
        ).fetchall()
    return {r[0]: (int(r[1]), float(r[2])) for r in rows}


def run(args: Any) -> dict[str, Any]:
    own_stack = args.stack is None
    state_dir = Path(tempfile.mkdtemp(prefix="ponte-bench-ingest-")) if own_stack else Path(args.stack).parent
    stack_proc = start_stack(state_dir, args.receivers) if own_stack else None
    try:
        stack = json.loads((state_dir / "stack.json").read_text())
        secrets = json.loads((state_dir / "local-secrets.json").read_text())
        _, wpp_url = wpp_instance(stack, state_dir)
        token = mint_token(secrets["jwt_secret"], sub=stack["demo"]["user_id"], ttl_seconds=3600)
        run_id = uuid.uuid4().hex[:6].upper()
        traffic = Traffic(run_id, stack["webhook_url"], secrets["demo_webhook_secret"], wpp_url)
        front_figures = front(stack, traffic)
        # the returning contacts' first messages (not measured)
        warm = [traffic.text(n, returning=True) for n in range(args.warmup)]
        asyncio.run(send_all(warm, None, args.connections))
        count = int(args.rate * args.seconds) if args.rate else args.messages
        posts = build_traffic(traffic, count, first=args.warmup)
        expected = {i for p in [*warm, *posts] for i in p.new_ids}
        probe = Probe(state_dir, token)
        stack_pid = stack_proc.pid if stack_proc is not None else None
        cpu0 = tree_cpu(stack_pid) if stack_pid else None
        driver0, probe0 = time.process_time(), probe.cpu_seconds()
        elapsed = asyncio.run(send_all(posts, args.rate, args.connections))
        driver_cpu = time.process_time() - driver0
        # drain: every expected message stored (or the deadline)
        deadline = time.monotonic() + args.drain
        got = stored(stack, expected)
        while len(expected - got.keys()) > 0 and time.monotonic() < deadline:
            time.sleep(0.5)
            got = stored(stack, expected)
        missing = sorted(expected - got.keys())
        if missing:
            print(f"not stored after {args.drain:.0f} s: {len(missing)}, e.g. {missing[:5]}")
        time.sleep(1.0)  # the last broadcasts reach the probe
        cpu_by = (
            {k: v - cpu0.get(k, 0.0) for k, v in tree_cpu(stack_pid).items()} if stack_pid and cpu0 is not None else {}
        )
        cpu = sum(cpu_by.values()) if cpu_by else None
        probe_cpu = probe.cpu_seconds() - probe0
        probe.stop()
        got = stored(stack, expected)
    finally:
        if stack_proc is not None:
            stack_proc.terminate()
            try:
                stack_proc.wait(60)
            except subprocess.TimeoutExpired:
                stack_proc.kill()
    statuses: dict[int, int] = {}
    for post in posts:
        statuses[post.status] = statuses.get(post.status, 0) + 1
    measured = [p for p in posts if p.marker]
    lost = len(expected - got.keys())
    duplicated = sum(n - 1 for n, _ in got.values())
    new_ids = {i for p in measured for i in p.new_ids}
    stored_times = [got[i][1] for i in new_ids if i in got]
    first_sent = min(p.sent_at for p in posts)
    window = (max(stored_times) - first_sent) if stored_times else elapsed
    to_row = [got[p.new_ids[0]][1] - p.sent_at for p in measured if p.new_ids and p.new_ids[0] in got]
    to_client = [probe.received[p.marker] - p.sent_at for p in measured if p.marker in probe.received]
    result = {
        "bench": "ingest",
        "mode": "http",
        "webhooks": len(posts),
        "accepted": statuses.get(200, 0),
        "statuses": {str(k): v for k, v in sorted(statuses.items())},
        "webhooks_per_s": round(len(posts) / elapsed, 1),
        "target_rate": args.rate,
        "messages": len(new_ids),
        "stored_per_s": round(len([i for i in new_ids if i in got]) / window, 1) if window else None,
        "stored_p50_ms": ms(percentile(to_row, 0.5)),
        "stored_p95_ms": ms(percentile(to_row, 0.95)),
        "stored_p99_ms": ms(percentile(to_row, 0.99)),
        "realtime_received": len(to_client),
        "realtime_p50_ms": ms(percentile(to_client, 0.5)),
        "realtime_p95_ms": ms(percentile(to_client, 0.95)),
        "realtime_p99_ms": ms(percentile(to_client, 0.99)),
        "stack_cpu_s_per_1000": round(cpu / len(new_ids) * 1000, 2) if cpu is not None and new_ids else None,
        "cpu_s_per_1000_by_process": {
            k: round(v / len(new_ids) * 1000, 2) for k, v in sorted(cpu_by.items(), key=lambda kv: -kv[1]) if v > 0
        }
        if new_ids
        else {},
        "driver_cpu_s": round(driver_cpu, 1),
        "probe_cpu_s": round(probe_cpu, 1),
        **front_figures,
        "lost": lost,
        "duplicated": duplicated,
        "machine": f"{platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}",
    }
    print(
        f"front, sequential on one connection: /health p50 {front_figures['health_p50_ms']} ms,"
        f" refused webhook {front_figures['refused_p50_ms']} ms, accepted webhook {front_figures['accepted_p50_ms']} ms"
        f" (a SendMessageBatch to the local SQS alone: {front_figures['sqs_send_p50_ms']} ms)"
    )
    print(
        f"{len(posts)} webhooks in {elapsed:.1f} s ({result['webhooks_per_s']}/s; target {args.rate or 'max'}),"
        f" statuses {result['statuses']}\n"
        f"{len(new_ids)} new messages: stored {result['stored_per_s']}/s;"
        f" webhook -> row p50/p95/p99 {result['stored_p50_ms']}/{result['stored_p95_ms']}/{result['stored_p99_ms']} ms;"
        f" -> supabase-js p50/p95/p99 {result['realtime_p50_ms']}/{result['realtime_p95_ms']}/"
        f"{result['realtime_p99_ms']} ms ({len(to_client)} received)\n"
        f"stack CPU {result['stack_cpu_s_per_1000']} s per 1,000 messages"
        f" ({result['cpu_s_per_1000_by_process']}); driver {driver_cpu:.1f} s,"
        f" probe {probe_cpu:.1f} s; lost {lost}, duplicated {duplicated}"
    )
    return result
