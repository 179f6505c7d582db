"""``ponte up`` keeps what it started running: a killed moto comes back with its queues and secrets
(so webhooks are stored again), a killed inference worker is started again on its port."""

from __future__ import annotations

import os
import signal
import time
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest

from ponte.localstack.stack import LocalStack
from tests.e2e.test_leads_analysis import payload, post, rows, wait_for

pytestmark = pytest.mark.e2e


def restarted(stack: LocalStack, child: str, timeout: float = 60) -> bool:
    assert stack.supervisor is not None
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if any(r.child.startswith(child) and r.ok for r in stack.supervisor.restarts):
            return True
        time.sleep(0.1)
    return False


def test_a_killed_moto_is_restarted_with_its_queues_and_secrets(stack: LocalStack) -> None:
    assert stack.moto is not None and stack.moto.pid is not None and stack.supervisor is not None
    before = stack.moto.pid
    # WHEN moto's process dies
    os.kill(before, signal.SIGKILL)
    # THEN the supervisor starts it again, once
    assert restarted(stack, "moto")
    assert stack.moto.alive() and stack.moto.pid != before
    assert [r.child for r in stack.supervisor.restarts] == ["moto (SQS, Secrets Manager)"]
    # AND a webhook posted afterwards goes through the new queues to the database
    response = post(stack, payload("SUP-MOTO-1", "5511987650031@s.whatsapp.net", "voltou?", datetime.now(UTC)))
    assert response.status_code == 200, response.text
    stored = wait_for(lambda: rows(stack, "select body from public.messages"), lambda r: len(r) == 1)
    assert [r["body"] for r in stored] == ["voltou?"]
    assert not stack.supervisor.failed.is_set()


def test_a_killed_worker_is_started_again(db_dsn: str, tmp_path: Path) -> None:
    stack = LocalStack(
        state_dir=tmp_path / "state", database_url=db_dsn, proxy_port=0, keep_data=False, run_worker=True
    ).start()
    try:
        assert stack.worker is not None and stack.worker.pid is not None
        before = stack.worker.pid
        os.killpg(before, signal.SIGKILL)
        assert restarted(stack, "inference worker", timeout=180)
        assert stack.worker.pid != before
        assert httpx.get(f"{stack.worker.url}/health", timeout=5).json()["ready"] is True
    finally:
        stack.stop()
