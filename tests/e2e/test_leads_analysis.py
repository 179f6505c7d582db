"""Done-when of issue 8 on the local stack over loopback: a webhook from a new number creates one
lead matched to its ERP customer; its text ends as a stored analysis with score, priority, SLA and
suggestion; with the worker down a degraded analysis is stored and the full one follows."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest

from ponte.domain.scoring import SLA, Priority
from ponte.localstack.pgcluster import free_port
from ponte.localstack.stack import LocalStack
from ponte.services.intake import SECRET_HEADER
from tests.fakes.fake_worker import FakeWorker

pytestmark = pytest.mark.e2e

DEMO = Path(__file__).resolve().parents[2] / "ponte/localstack/demo/evolution/messages.upsert__text-inbound-v2__01.json"
TOKEN = "e2e-worker-token"


def payload(message_id: str, jid: str, text: str, at: datetime) -> bytes:
    body = json.loads(DEMO.read_text())
    body["data"]["key"].update({"id": message_id, "remoteJid": jid})
    body["data"]["message"] = {"conversation": text}
    body["data"]["messageTimestamp"] = int(at.timestamp())
    return json.dumps(body).encode()


def post(stack: LocalStack, body: bytes) -> httpx.Response:
    headers = {"Content-Type": "application/json", SECRET_HEADER: stack.secrets.demo_webhook_secret}
    return httpx.post(stack.webhook_url(), content=body, headers=headers, timeout=10)


def wait_for(fetch: Callable[[], Any], ok: Callable[[Any], bool], timeout: float = 20) -> Any:
    deadline = time.monotonic() + timeout
    value = fetch()
    while not ok(value) and time.monotonic() < deadline:
        time.sleep(0.2)
        value = fetch()
    return value


def rows(stack: LocalStack, sql: str) -> list[dict[str, Any]]:
    """Read as the demo tenant's owner, through RLS."""
    assert stack.db is not None and stack.demo is not None
    with stack.db.as_user({"sub": stack.demo.user_id, "role": "authenticated"}) as conn:
        return list(conn.execute(sql).fetchall())


def start_stack(db_dsn: str, tmp_path: Path, worker_url: str | None) -> LocalStack:
    """With ``worker_url`` None the stack starts the real inference worker with its packaged model."""
    overrides: dict[str, Any] = {
        "worker_timeout_seconds": 5.0,
        "breaker_failures": 1,
        "breaker_reset_seconds": 0.5,
        "analyze_retry_base_seconds": 1,
    }
    if worker_url is not None:
        overrides.update(worker_url=worker_url, worker_token=TOKEN)
    stack = LocalStack(
        state_dir=tmp_path / "state",
        database_url=db_dsn,
        proxy_port=0,
        keep_data=False,
        overrides=overrides,
        run_worker=worker_url is None,
    )
    try:
        return stack.start()
    except BaseException:
        stack.stop()
        raise


def test_new_number_becomes_one_lead_matched_to_its_erp_customer_and_a_scored_analysis(
    db_dsn: str, tmp_path: Path
) -> None:
    stack = start_stack(db_dsn, tmp_path, None)
    try:
        assert stack.demo is not None and stack.worker is not None  # the real worker, packaged model
        # GIVEN the ERP knows the customer by her old 8-digit number
        with psycopg.connect(db_dsn) as conn:
            conn.execute(
                "insert into public.customers (tenant_id, external_id, name, phone_raw)"
                " values (%s, 'ERP-77', 'Ana Souza', '(21) 8765-4321')",
                (stack.demo.tenant_id,),
            )
        now = datetime.now(UTC).replace(microsecond=0)
        jid = "5521987654321@s.whatsapp.net"
        # WHEN she writes twice (the first webhook delivered twice)
        first = payload("E2E-L1", jid, "Oi! Quanto custa a bolsa preta? Quero comprar", now)
        for body in (first, first, payload("E2E-L2", jid, "tem no tamanho grande?", now + timedelta(seconds=5))):
            assert post(stack, body).json()["outcome"] == "accepted"
        # THEN one lead, matched to her customer record, organic
        leads = wait_for(
            lambda: rows(
                stack,
                "select l.source, l.returning_customer, c.name, l.score from public.leads l"
                " join public.customers c on c.id = l.customer_id",
            ),
            lambda r: len(r) == 1 and r[0]["score"] is not None,
        )
        assert [(r["source"], r["returning_customer"], r["name"]) for r in leads] == [("organic", True, "Ana Souza")]
        # AND both texts end as stored analyses with score, priority, SLA and a suggestion for the agent
        analyses = wait_for(
            lambda: rows(
                stack,
                "select a.intent, a.score, a.score_parts, a.priority, a.sla_due_at, a.degraded, s.text as suggestion,"
                " s.outcome, m.occurred_at from public.message_analyses a join public.messages m on m.id = a.message_id"
                " left join public.reply_suggestions s on s.message_id = a.message_id order by m.occurred_at",
            ),
            lambda r: len(r) == 2,
        )
        assert len(analyses) == 2
        first_analysis = analyses[0]
        assert first_analysis["intent"] == "purchase_interest" and not first_analysis["degraded"]
        assert 0 <= first_analysis["score"] <= 100 and first_analysis["score_parts"]["total"] == first_analysis["score"]
        due = SLA[Priority(first_analysis["priority"])]
        assert first_analysis["sla_due_at"] == first_analysis["occurred_at"] + due
        assert first_analysis["suggestion"] and first_analysis["outcome"] is None  # stored, not sent
        # the second message counts as more engagement
        assert analyses[1]["score_parts"]["inbound_messages"] == 2
        [conversation] = rows(stack, "select priority, sla_due_at from public.conversations")
        assert conversation["sla_due_at"] == min(a["sla_due_at"] for a in analyses)
    finally:
        stack.stop()


def test_worker_down_stores_a_degraded_analysis_and_the_full_one_later(db_dsn: str, tmp_path: Path) -> None:
    # GIVEN the worker's port answers nothing
    port = free_port()
    stack = start_stack(db_dsn, tmp_path, f"http://127.0.0.1:{port}")
    worker = FakeWorker(TOKEN, port=port)
    try:
        now = datetime.now(UTC).replace(microsecond=0)
        body = payload("E2E-D1", "5531999990001@s.whatsapp.net", "Fui cobrado duas vezes! Quero estorno", now)
        assert post(stack, body).json()["outcome"] == "accepted"
        # THEN a degraded analysis (fast-path labels, no suggestion) is stored at once
        sql = (
            "select a.degraded, a.model, a.intent, a.priority, a.attempts,"
            " (select count(*) from public.reply_suggestions) as suggestions from public.message_analyses a"
        )
        degraded = wait_for(lambda: rows(stack, sql), lambda r: len(r) == 1)
        assert [(r["degraded"], r["model"], r["intent"], r["suggestions"]) for r in degraded] == [
            (True, "fast-path", "billing_dispute", 0)
        ]
        assert degraded[0]["priority"] in ("high", "critical")
        # WHEN the worker comes up
        worker.start()
        # THEN the delayed job stores the full analysis with its suggestion
        full = wait_for(lambda: rows(stack, sql), lambda r: len(r) == 1 and not r[0]["degraded"], timeout=30)
        assert [(r["degraded"], r["model"], r["suggestions"]) for r in full] == [(False, "fake-worker", 1)]
        assert full[0]["attempts"] >= 2
    finally:
        worker.stop()
        stack.stop()
