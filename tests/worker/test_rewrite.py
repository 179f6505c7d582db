"""The worker's campaign rewrite over real HTTP with the packaged model: auth, validation, a capped
rewrite or a clear 503 (the caller then sends its template), and none at all without an LLM."""

from __future__ import annotations

import time
from collections.abc import Iterator

import httpx
import pytest

from inference_worker.service import WorkerService
from inference_worker.settings import WorkerSettings
from ponte.adapters.worker_client import HttpRewriter
from ponte.domain.campaigns.rewrite import rewrite_violations
from ponte.ports.campaigns import RewriteUnavailableError
from tests.worker.conftest import TOKEN

pytestmark = pytest.mark.integration
AUTH = {"Authorization": f"Bearer {TOKEN}"}
TEXT = "Olá Maria! Amanhã teremos manutenção na rede das 2h às 4h."


@pytest.fixture(scope="module")
def llm_worker() -> Iterator[WorkerService]:
    s = WorkerService(WorkerSettings(token=TOKEN, port=0, processes=1, queue_size=1, reply_mode="llm")).start()
    try:
        yield s
    finally:
        s.stop()


def test_rewrite_needs_the_token_and_a_valid_body(llm_worker: WorkerService) -> None:
    with httpx.Client(base_url=llm_worker.url) as client:
        assert client.post("/v1/rewrite", json={"text": TEXT}).status_code == 401
        r = client.post("/v1/rewrite", content=b"{nope", headers=AUTH)
        assert (r.status_code, r.json()["code"]) == (400, "invalid_json")
        for body in ({"text": ""}, {"text": "x" * 2001}, {"text": TEXT, "max_chars": 5}, {"text": TEXT, "x": 1}):
            r = client.post("/v1/rewrite", json=body, headers=AUTH)
            assert (r.status_code, r.json()["code"]) == (422, "invalid_request"), body


def test_a_rewrite_is_capped_or_refused_clearly(llm_worker: WorkerService) -> None:
    rewriter = HttpRewriter(llm_worker.url, TOKEN, read_timeout=60)
    deadline = time.monotonic() + 120
    while True:  # the model loads on the first request
        try:
            text = rewriter.rewrite(TEXT, name="Maria", max_chars=120)
        except RewriteUnavailableError as exc:
            assert "503" in str(exc)  # the model wrote nothing usable: the template goes out
            return
        break
    assert time.monotonic() < deadline
    assert 0 < len(text) <= 120 and "{" not in text
    rewrite_violations(TEXT, text)  # the caller's checks run on any text the model writes


def test_no_rewrite_from_a_worker_without_an_llm() -> None:
    s = WorkerService(WorkerSettings(token=TOKEN, port=0, processes=1, reply_mode="template", warm_up=False)).start()
    try:
        with httpx.Client(base_url=s.url, headers=AUTH) as client:
            r = client.post("/v1/rewrite", json={"text": TEXT})
            assert (r.status_code, r.json()["code"]) == (503, "rewrite_unavailable")
        with pytest.raises(RewriteUnavailableError):
            HttpRewriter(s.url, TOKEN).rewrite(TEXT, name=None, max_chars=200)
    finally:
        s.stop()
