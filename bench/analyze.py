"""Analysis throughput and latency on this machine: the label path and the LLM reply path.

    ponte bench analyze [--mode labels|llm|both] [--processes 2] [--requests 200] [--llm-requests 20]

For each mode: (1) in one process on one thread, the per-message time of the engine (label
path, or labels + LLM reply); (2) through the real HTTP worker with ``--processes`` worker
processes and twice as many concurrent clients, analyses per second and request latency;
(3) resident memory of each worker process (from its /metrics). Messages are synthetic,
composed here; nothing comes from the evaluation data.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import os
import platform
import random
import re
import secrets
import statistics
import time

import httpx

from inference_worker.engine import Engine
from inference_worker.evaluation import percentile
from inference_worker.service import WorkerService
from inference_worker.settings import WorkerSettings
from ponte.domain.analysis import AnalyzeRequest

ITEMS = ("a bolsa preta", "o tênis 39", "a cadeira gamer", "o kit de panelas", "a camiseta M", "o fone bluetooth")
FRAMES = (
    "oi, vocês ainda têm {item}? quanto tá?",
    "comprei {item} semana passada e até agora não chegou, que absurdo",
    "me cobraram duas vezes por {item}, quero o estorno",
    "chegou {item}, amei! obrigada pelo capricho",
    "como faço pra trocar {item}? veio com defeito",
    "dá pra parcelar {item} em 5x no cartão?",
    "bom dia! queria saber o prazo de entrega d{item}",
    "{item} é bom, mas achei meio caro pelo que entrega",
    "preciso da segunda via do boleto d{item}",
    "vou no Procon se não resolverem o problema d{item} hoje",
)


def messages(n: int, seed: int = 11) -> list[str]:
    rng = random.Random(seed)
    pool = [frame.format(item=item) for frame, item in itertools.product(FRAMES, ITEMS)]
    return [rng.choice(pool) for _ in range(n)]


def machine() -> str:
    model = "unknown CPU"
    try:
        with open("/proc/cpuinfo") as fh:
            model = next(line.split(":", 1)[1].strip() for line in fh if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    load = os.getloadavg()[0]
    system = f"{platform.system()} {platform.release()}, Python {platform.python_version()}"
    return f"{os.cpu_count()} vCPU {model}, {system}, load1={load:.2f}"


def in_process(settings: WorkerSettings, texts: list[str]) -> dict[str, float]:
    os.environ["OMP_NUM_THREADS"] = "1"
    engine = Engine(settings)
    engine.warm_up()
    times, llm_times, sources = [], [], []
    for text in texts:
        started = time.perf_counter()
        outcome = engine.analyze(AnalyzeRequest(text=text))
        times.append((time.perf_counter() - started) * 1000)
        if outcome.llm_seconds is not None:
            llm_times.append(outcome.llm_seconds * 1000)
        sources.append(outcome.analysis["reply_source"])
    result = {"p50_ms": percentile(times, 50), "p95_ms": percentile(times, 95), "mean_ms": statistics.fmean(times)}
    if llm_times:
        result |= {
            "llm_p50_ms": percentile(llm_times, 50),
            "llm_p95_ms": percentile(llm_times, 95),
            "llm_replies": sources.count("llm") / len(sources),
        }
    return result


async def over_http(url: str, token: str, texts: list[str], concurrency: int) -> dict[str, float]:
    queue: asyncio.Queue[str] = asyncio.Queue()
    for text in texts:
        queue.put_nowait(text)
    latencies: list[float] = []
    statuses: list[int] = []

    async def client(ac: httpx.AsyncClient) -> None:
        while not queue.empty():
            text = queue.get_nowait()
            started = time.perf_counter()
            r = await ac.post("/v1/analyze", json={"text": text})
            latencies.append((time.perf_counter() - started) * 1000)
            statuses.append(r.status_code)

    headers = {"Authorization": f"Bearer {token}"}
    async with httpx.AsyncClient(base_url=url, headers=headers, timeout=120) as ac:
        started = time.perf_counter()
        await asyncio.gather(*(client(ac) for _ in range(concurrency)))
        wall = time.perf_counter() - started
    return {
        "per_s": len(texts) / wall,
        "p50_ms": percentile(latencies, 50),
        "p95_ms": percentile(latencies, 95),
        "ok": statuses.count(200) / len(statuses),
    }


def worker_rss_mb(url: str) -> list[float]:
    text = httpx.get(f"{url}/metrics").text
    return [float(v) / 2**20 for v in re.findall(r'ponte_worker_process_resident_bytes\{pid="\d+"\} (\S+)', text)]


def run_mode(mode: str, processes: int, requests: int) -> None:
    token = secrets.token_urlsafe(24)
    settings = WorkerSettings(
        token=token,
        port=0,
        processes=processes,
        queue_size=4 * processes,
        reply_mode="llm" if mode == "llm" else "template",
        request_timeout_seconds=120,
    )
    texts = messages(requests)
    single = in_process(settings, texts[: max(10, requests // 4)])
    line = f"[{mode}] 1 process x 1 thread: p50={single['p50_ms']:.1f} ms p95={single['p95_ms']:.1f} ms"
    if "llm_p50_ms" in single:
        line += (
            f"; LLM reply p50={single['llm_p50_ms']:.0f} ms p95={single['llm_p95_ms']:.0f} ms,"
            f" replies written by the LLM {single['llm_replies']:.0%} (rest: template fallback)"
        )
    print(line, flush=True)
    service = WorkerService(settings).start()
    try:
        with httpx.Client(base_url=service.url) as c:
            deadline = time.monotonic() + 180
            while not c.get("/health").json()["ready"] and time.monotonic() < deadline:
                time.sleep(0.2)
        http = asyncio.run(over_http(service.url, token, texts, concurrency=2 * processes))
        rss = worker_rss_mb(service.url)
    finally:
        service.stop()
    print(
        f"[{mode}] HTTP, {processes} worker processes, {2 * processes} clients, {requests} requests:"
        f" {http['per_s']:.2f} analyses/s, latency p50={http['p50_ms']:.1f} ms p95={http['p95_ms']:.1f} ms,"
        f" 200s={http['ok']:.0%}; RSS per worker process: {', '.join(f'{m:.0f} MB' for m in rss)}",
        flush=True,
    )


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="ponte bench analyze")
    p.add_argument("--mode", choices=["labels", "llm", "both"], default="both")
    p.add_argument("--processes", type=int, default=2)
    p.add_argument("--requests", type=int, default=200, help="label-path requests")
    p.add_argument("--llm-requests", type=int, default=24)
    args = p.parse_args(argv)
    print(f"machine: {machine()}")
    if args.mode in ("labels", "both"):
        run_mode("labels", args.processes, args.requests)
    if args.mode in ("llm", "both"):
        run_mode("llm", args.processes, args.llm_requests)
    return 0
