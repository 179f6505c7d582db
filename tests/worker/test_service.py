"""The worker over real HTTP on loopback: auth, validation, analysis, backpressure, health, metrics."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import httpx
import pytest

from inference_worker.service import WorkerService
from inference_worker.settings import WorkerSettings
from ponte.domain.analysis import Analysis
from tests.worker.conftest import TOKEN

pytestmark = pytest.mark.integration
AUTH = {"Authorization": f"Bearer {TOKEN}"}


@pytest.fixture(scope="module")
def service() -> Iterator[WorkerService]:
    """One process, no queue: the second concurrent request is over capacity. LLM replies on."""
    settings = WorkerSettings(token=TOKEN, port=0, processes=1, queue_size=0, reply_mode="llm")
    s = WorkerService(settings).start()
    try:
        yield s
    finally:
        s.stop()


def wait_ready(client: httpx.Client) -> None:
    for _ in range(600):
        if client.get("/health").json()["ready"]:
            return
        asyncio.run(asyncio.sleep(0.1))
    raise AssertionError("worker never became ready")


def test_requests_without_the_token_are_refused(service: WorkerService) -> None:
    with httpx.Client(base_url=service.url) as client:
        for headers in ({}, {"Authorization": "Bearer wrong-token-0123456789"}, {"Authorization": TOKEN}):
            r = client.post("/v1/analyze", json={"text": "oi"}, headers=headers)
            assert r.status_code == 401
            assert r.json()["code"] == "unauthorized"
            assert TOKEN not in r.text
            # and the metrics too: a scraper sends the worker token (or PONTE_WORKER_METRICS_TOKEN)
            metrics = client.get("/metrics", headers=headers)
            assert (metrics.status_code, metrics.json()["code"]) == (401, "unauthorized")
        assert client.get("/metrics", headers=AUTH).status_code == 200


def test_bad_input_gets_a_clear_error(service: WorkerService) -> None:
    with httpx.Client(base_url=service.url, headers=AUTH) as client:
        r = client.post("/v1/analyze", content=b"{not json")
        assert (r.status_code, r.json()["code"]) == (400, "invalid_json")
        r = client.post("/v1/analyze", json={"text": "oi", "surprise": 1})
        assert (r.status_code, r.json()["code"]) == (422, "invalid_request")
        assert "surprise" in r.json()["reason"]
        r = client.post("/v1/analyze", json={"text": "x" * 5000})
        assert (r.status_code, r.json()["code"]) == (422, "invalid_request")


def test_analysis_llm_reply_backpressure_and_metrics(service: WorkerService) -> None:
    with httpx.Client(base_url=service.url, headers=AUTH, timeout=60) as client:
        wait_ready(client)
        health = client.get("/health").json()
        assert health["model"] == "smollm2-135m-instruct-q4_1" and health["llm_replies"] is True

        async def two_at_once() -> list[httpx.Response]:
            async with httpx.AsyncClient(base_url=service.url, headers=AUTH, timeout=60) as ac:
                first = asyncio.create_task(
                    ac.post("/v1/analyze", json={"text": "a entrega atrasou de novo, quero uma solução hoje"})
                )
                await asyncio.sleep(0.3)  # the first one is now on the only process
                second = await ac.post("/v1/analyze", json={"text": "tem em azul?"})
                return [await first, second]

        # WHEN two requests arrive at a worker with one process and no queue
        first, second = asyncio.run(two_at_once())
        # THEN the first is analysed (an LLM reply, or a template when the LLM's answer was unusable)
        assert first.status_code == 200
        analysis = Analysis.model_validate(first.json())
        assert analysis.degraded is False and analysis.model == "smollm2-135m-instruct-q4_1"
        assert analysis.reply_source in {"llm", "template"} and analysis.suggested_reply
        assert analysis.sentiment == "negative" and analysis.urgency == "high"
        # AND the second is turned away with a hint when to retry
        assert second.status_code == 429
        assert second.json()["code"] == "overloaded"
        assert int(second.headers["Retry-After"]) >= 1

        metrics = client.get("/metrics").text
        assert 'ponte_worker_requests_total{outcome="ok"} 1.0' in metrics
        assert 'ponte_worker_requests_total{outcome="overloaded"} 1.0' in metrics
        assert "ponte_worker_llm_seconds_count 1.0" in metrics
        assert "ponte_worker_process_resident_bytes{pid=" in metrics
        assert "tem em azul" not in metrics and "entrega" not in metrics
