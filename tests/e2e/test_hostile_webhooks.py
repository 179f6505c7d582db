"""Hostile bodies from an authenticated gateway, against the running local stack: each case of
issue 14 ends 2xx/4xx with a diagnostics row, and what was accepted is stored."""

from __future__ import annotations

import json
import time

import httpx
import psycopg
import pytest

from ponte.localstack.seed import seed_tenant
from ponte.localstack.stack import LocalStack
from ponte.services.intake import SECRET_HEADER
from tests.e2e.test_webhook_providers import wait_for
from tests.unit.test_intake_hostile_bodies import evolution_batch, text_body

pytestmark = pytest.mark.e2e

OTHER_INSTANCE = "00000000-0000-4000-8000-00000000e5b2"
OTHER_SECRET = "other-instance-secret-for-tests"


def post(stack: LocalStack, body: bytes, url: str | None = None, secret: str | None = None) -> httpx.Response:
    assert stack.demo is not None
    headers = {SECRET_HEADER: secret or stack.secrets.demo_webhook_secret, "Content-Type": "application/json"}
    return httpx.post(url or stack.webhook_url(), content=body, headers=headers, timeout=60)


def diagnostics(stack: LocalStack) -> list[tuple[int, str | None]]:
    with psycopg.connect(stack.dsn) as conn:
        return conn.execute("select status_code, error_code from public.proxy_diagnostics order by id").fetchall()


CASES = [
    (b"[" * 100_000 + b"]" * 100_000, 422, "too_deep"),
    (b'{"a":' * 50_000 + b"1" + b"}" * 50_000, 422, "too_deep"),
    (b'{"event": "messages.upsert", "data": ' + b"9" * 5000 + b"}", 422, "bad_number"),
    (text_body(event="messages\u0000upsert"), 200, "unknown_event"),
    (text_body(event="\ud800"), 200, "unknown_event"),
]


def test_hostile_bodies_are_4xx_or_ignored_each_with_a_diagnostics_row(stack: LocalStack) -> None:
    for body, status, code in CASES:
        response = post(stack, body)
        assert response.status_code == status, response.text
        assert code in (response.json().get("code"), response.json().get("reason"))
    rows = diagnostics(stack)
    assert [s for s, _ in rows] == [s for _, s, _ in CASES]


def test_nul_and_surrogates_in_text_name_and_id_are_stored_cleaned(stack: LocalStack) -> None:
    bodies = [
        text_body(text="a\u0000b", message_id="nul-in-text"),
        text_body(push_name="Jo\u0000\ud800ao", message_id="nul-in-name"),
        text_body(text="oi \ud83d", message_id="id-\u0000-\udc00"),
    ]
    for body in bodies:
        response = post(stack, body)
        assert response.status_code == 200 and response.json()["outcome"] == "accepted", response.text
    rows = wait_for(stack, "select provider_message_id, body from public.messages", 3)
    assert {r[0] for r in rows} == {"nul-in-text", "nul-in-name", "id-\ufffd-\ufffd"}
    assert {r[1] for r in rows} >= {"a\ufffdb", "oi \ufffd"}
    assert len(diagnostics(stack)) == 3


def test_a_3000_message_body_is_answered_fast_and_does_not_hold_another_instance(stack: LocalStack) -> None:
    assert stack.demo is not None
    with psycopg.connect(stack.dsn) as conn:
        seed_tenant(
            conn,
            tenant_id=stack.demo.tenant_id,
            name="Loja Demo",
            user_id=stack.demo.user_id,
            email=stack.demo.user_email,
            instance_id=OTHER_INSTANCE,
            provider="evolution",
            gateway_instance="loja-sul",
            webhook_secret=OTHER_SECRET,
        )
    started = time.monotonic()
    response = post(stack, evolution_batch(3000))
    answered = time.monotonic() - started
    assert response.json() == {"outcome": "accepted", "events": 3000, "dropped": 0}
    assert answered < 10, answered
    other_url = f"{stack.proxy_url}/webhooks/evolution/{OTHER_INSTANCE}"
    single = json.loads(text_body(message_id="after-the-flood"))
    single["instance"] = "loja-sul"
    sent = time.monotonic()
    other = post(stack, json.dumps(single).encode(), url=other_url, secret=OTHER_SECRET)
    other_answered = time.monotonic() - sent
    assert other.status_code == 200, other.text
    print(f"3000-event body answered in {answered:.2f} s; the next webhook in {other_answered:.3f} s")
    # Intake is free again at once; how fast the backlog drains is ingest's throughput (bench ingest).
    assert other_answered < 2, other_answered
