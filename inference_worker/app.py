"""The worker's HTTP surface (Starlette): ``POST /v1/analyze``, ``POST /v1/rewrite`` (campaign texts),
``GET /health``, ``GET /metrics``.

``/v1/*`` needs ``Authorization: Bearer <token>``; ``/metrics`` that token or the metrics token
(``PONTE_WORKER_METRICS_TOKEN``), 401 without. ``/health`` carries no message text and no secret
and stays open for probes. Errors answer ``{"code", "reason"}`` with a status that says what to do.
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import logging
import time
from collections.abc import AsyncIterator

from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from pydantic import ValidationError
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from inference_worker.engine import Outcome, uses_llm
from inference_worker.fallback import degraded_analysis
from inference_worker.llm.gguf import model_name
from inference_worker.metrics import WorkerMetrics
from inference_worker.pool import AnalysisPool, OverloadedError, PoolUnavailableError
from inference_worker.settings import WorkerSettings
from ponte.domain.analysis import AnalyzeRequest
from ponte.domain.campaigns.rewrite import RewriteRequest, RewriteResponse

logger = logging.getLogger(__name__)

MAX_BODY_BYTES = 256 * 1024


def error(status: int, code: str, reason: str, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse({"code": code, "reason": reason}, status_code=status, headers=headers)


# one closure per route over the shared pool and metrics
def create_app(settings: WorkerSettings) -> Starlette:  # noqa: C901, PLR0915
    metrics = WorkerMetrics()
    expected = f"Bearer {settings.token}".encode()
    state: dict[str, AnalysisPool] = {}
    background: set[asyncio.Task[None]] = set()

    @contextlib.asynccontextmanager
    async def lifespan(_: Starlette) -> AsyncIterator[None]:
        pool = AnalysisPool(settings)
        state["pool"] = pool
        metrics.capacity.set(pool.capacity)
        metrics.processes.set(settings.processes)
        if settings.warm_up:
            task = asyncio.create_task(pool.warm_up())
            background.add(task)
            task.add_done_callback(background.discard)
        try:
            yield
        finally:
            for task in background:
                task.cancel()
            await asyncio.to_thread(pool.close)

    def authorized(request: Request) -> bool:
        given = request.headers.get("authorization", "").encode()
        return hmac.compare_digest(given, expected)

    def record(outcome: Outcome) -> None:
        metrics.labels_seconds.observe(outcome.labels_seconds)
        if outcome.llm_seconds is not None:
            metrics.llm_seconds.observe(outcome.llm_seconds)
        if outcome.llm_fallback:
            metrics.llm_fallbacks.labels(outcome.llm_fallback).inc()
        metrics.replies.labels(outcome.analysis["reply_source"]).inc()
        metrics.process_rss.labels(str(outcome.pid)).set(outcome.rss_bytes)

    async def analyze(request: Request) -> Response:
        if not authorized(request):
            metrics.requests.labels("unauthorized").inc()
            return error(401, "unauthorized", "missing or wrong bearer token")
        body = await request.body()
        if len(body) > MAX_BODY_BYTES:
            metrics.requests.labels("invalid").inc()
            return error(413, "payload_too_large", f"body over {MAX_BODY_BYTES} bytes")
        try:
            payload = AnalyzeRequest.model_validate_json(body)
        except ValidationError as exc:
            metrics.requests.labels("invalid").inc()
            first = exc.errors()[0]
            code = "invalid_json" if first["type"] == "json_invalid" else "invalid_request"
            where = ".".join(str(p) for p in first["loc"]) or "body"
            return error(400 if code == "invalid_json" else 422, code, f"{where}: {first['msg']}")
        pool = state["pool"]
        started = time.perf_counter()
        metrics.in_flight.set(pool.in_flight + 1)
        try:
            outcome = await pool.analyze(payload)
        except OverloadedError as exc:
            metrics.requests.labels("overloaded").inc()
            return error(429, "overloaded", "analysis queue is full", headers={"Retry-After": str(exc.retry_after)})
        except PoolUnavailableError as exc:
            # still a valid answer: lexicon + rules, flagged degraded so the caller asks again later
            logger.warning("analysis degraded: %s", exc)
            metrics.requests.labels("degraded").inc()
            return JSONResponse(degraded_analysis(payload).model_dump(mode="json"))
        finally:
            metrics.in_flight.set(pool.in_flight)
            metrics.request_seconds.observe(time.perf_counter() - started)
        record(outcome)
        metrics.requests.labels("ok").inc()
        return JSONResponse(outcome.analysis)

    async def rewrite(request: Request) -> Response:
        """A campaign text reworded by the LLM (``{"text", "model"}``); 503 ``rewrite_unavailable``
        when this worker runs no LLM or the model gave nothing usable: the caller sends its template."""
        if not authorized(request):
            metrics.requests.labels("unauthorized").inc()
            return error(401, "unauthorized", "missing or wrong bearer token")
        body = await request.body()
        if len(body) > MAX_BODY_BYTES:
            return error(413, "payload_too_large", f"body over {MAX_BODY_BYTES} bytes")
        try:
            payload = RewriteRequest.model_validate_json(body)
        except ValidationError as exc:
            first = exc.errors()[0]
            code = "invalid_json" if first["type"] == "json_invalid" else "invalid_request"
            where = ".".join(str(p) for p in first["loc"]) or "body"
            return error(400 if code == "invalid_json" else 422, code, f"{where}: {first['msg']}")
        if not uses_llm(settings):
            return error(503, "rewrite_unavailable", "this worker runs no LLM")
        try:
            text = await state["pool"].rewrite(payload)
        except OverloadedError as exc:
            return error(429, "overloaded", "the queue is full", headers={"Retry-After": str(exc.retry_after)})
        except PoolUnavailableError:
            text = None
        if text is None:
            return error(503, "rewrite_unavailable", "the model gave no usable rewrite")
        return JSONResponse(RewriteResponse(text=text, model=model_name(settings.model_path)).model_dump())

    async def health(_: Request) -> Response:
        pool = state.get("pool")
        return JSONResponse(
            {
                "status": "ok" if pool is not None else "starting",
                "ready": bool(pool and pool.ready),
                "processes": settings.processes,
                "in_flight": pool.in_flight if pool else 0,
                "capacity": pool.capacity if pool else 0,
                "model": model_name(settings.model_path),
                "llm_replies": uses_llm(settings),
            }
        )

    scraper = f"Bearer {settings.metrics_token}".encode() if settings.metrics_token else None

    async def metrics_endpoint(request: Request) -> Response:
        given = request.headers.get("authorization", "").encode()
        if not (authorized(request) or (scraper is not None and hmac.compare_digest(given, scraper))):
            return error(401, "unauthorized", "missing or wrong bearer token")
        return Response(generate_latest(metrics.registry), media_type=CONTENT_TYPE_LATEST)

    app = Starlette(
        routes=[
            Route("/v1/analyze", analyze, methods=["POST"]),
            Route("/v1/rewrite", rewrite, methods=["POST"]),
            Route("/health", health, methods=["GET"]),
            Route("/metrics", metrics_endpoint, methods=["GET"]),
        ],
        lifespan=lifespan,
    )
    app.state.metrics = metrics
    return app
