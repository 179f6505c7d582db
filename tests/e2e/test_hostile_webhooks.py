"""Hostile bodies from an authenticated gateway, against the running local stack: each case of
issue 14 ends 2xx/4xx with a diagnostics row, and what was accepted is stored."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime

import httpx
import psycopg
import pytest

from ponte import constants as c
from ponte.cli.main import main
from ponte.domain.envelope import IngestEnvelope, pack_envelopes
from ponte.localstack.seed import seed_tenant
from ponte.localstack.stack import LocalStack
from ponte.services.intake import SECRET_HEADER
from proxy import providers
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


def seed_other_instance(stack: LocalStack) -> str:
    """A second Evolution instance of the demo tenant; returns its webhook URL."""
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
        # a gateway of its own: the local stack's wiring loop leaves it alone (wiring an instance
        # gives it a new webhook secret, which would race this test's posts)
        conn.execute(
            "update public.whatsapp_instances set gateway_base_url = 'http://127.0.0.1:9' where id = %s",
            (OTHER_INSTANCE,),
        )
    return f"{stack.proxy_url}/webhooks/evolution/{OTHER_INSTANCE}"


def other_instance_body(message_id: str) -> bytes:
    single = json.loads(text_body(message_id=message_id))
    single["instance"] = "loja-sul"
    return json.dumps(single).encode()


def test_a_3000_message_body_is_answered_fast_and_does_not_hold_another_instance(stack: LocalStack) -> None:
    other_url = seed_other_instance(stack)
    started = time.monotonic()
    response = post(stack, evolution_batch(3000))
    answered = time.monotonic() - started
    assert response.json() == {"outcome": "accepted", "events": 3000, "dropped": 0}
    sent = time.monotonic()
    other = post(stack, other_instance_body("after-the-flood"), url=other_url, secret=OTHER_SECRET)
    assert other.status_code == 200, other.text
    rows = wait_for(stack, "select 1 from public.messages where provider_message_id = 'after-the-flood'", 1, timeout=10)
    stored_after = time.monotonic() - sent
    assert rows, "the other instance's message was not stored"
    print(f"3000-event body answered in {answered:.2f} s; the next webhook stored {stored_after:.2f} s later")
    assert answered < 5, answered
    # the flood drains on the bulk lane; the live lane stores the other instance's message at once
    assert stored_after < 1, stored_after
    with psycopg.connect(stack.dsn) as conn:
        flood_stored = conn.execute("select count(*) from public.messages").fetchone()
    assert flood_stored is not None and flood_stored[0] < 3001, "the flood was not behind the live lane"


@pytest.mark.parametrize("stack_overrides", [{"instance_events_per_second": 50.0, "instance_events_burst": 100.0}])
def test_an_instance_over_its_rate_is_told_when_to_retry_and_another_is_not(stack: LocalStack) -> None:
    other_url = seed_other_instance(stack)
    assert post(stack, evolution_batch(150)).json()["outcome"] == "accepted"  # the bucket is now in debt
    refused = post(stack, text_body(message_id="too-soon"))
    assert refused.status_code == 429, refused.text
    assert refused.json()["code"] == "rate_limited"
    assert 1 <= int(refused.headers["Retry-After"]) <= 2
    assert post(stack, other_instance_body("meanwhile"), url=other_url, secret=OTHER_SECRET).status_code == 200
    assert diagnostics(stack)[1] == (429, "rate_limited")
    time.sleep(int(refused.headers["Retry-After"]))
    assert post(stack, text_body(message_id="too-soon")).status_code == 200


def test_a_dead_lettered_ingest_message_is_listed_without_its_text_and_replayed(
    stack: LocalStack, capsys: pytest.CaptureFixture[str]
) -> None:
    # GIVEN an accepted message that died in the ingest DLQ (say, five receives during a database outage)
    assert stack.demo is not None
    normalized = providers.normalize(
        "evolution", json.loads(text_body(text="segredo", message_id="died")), instance="demo"
    )
    envelope = IngestEnvelope(
        tenant_id=stack.demo.tenant_id, instance_id=stack.demo.instance_id, received_at=datetime.now(UTC),
        event=normalized.events[0],
    )  # fmt: skip
    dlq = stack.queue_urls[f"{c.DEFAULT_INGEST_QUEUE}-dlq"]
    stack.sqs.send_message(QueueUrl=dlq, MessageBody=pack_envelopes([envelope], 24 * 1024)[0])
    flags = [
        "--database-url", stack.dsn,
        "--queue-url", stack.queue_urls[c.DEFAULT_INGEST_QUEUE],
        "--bulk-queue-url", stack.queue_urls[c.DEFAULT_INGEST_BULK_QUEUE],
    ]  # fmt: skip
    # WHEN an admin lists the quarantine
    assert main(["quarantine", "list", *flags]) == 0
    listed = capsys.readouterr().out
    (letter,) = [json.loads(line) for line in listed.splitlines()]
    # THEN the dead letter is there, with its tenant and size, and not its text
    assert letter["source"] == "dead_letter" and letter["queue"] == f"{c.DEFAULT_INGEST_QUEUE}-dlq"
    assert (letter["envelopes"], letter["tenant_id"]) == (1, stack.demo.tenant_id)
    assert "segredo" not in listed
    # AND a replay sends it back to ingest, where it is stored, and the DLQ is empty
    assert main(["quarantine", "replay", *flags]) == 0
    assert json.loads(capsys.readouterr().out.splitlines()[-1]) == {"replayed": 0, "redriven": 1}
    assert wait_for(stack, "select body from public.messages where provider_message_id = 'died'", 1) == [("segredo",)]
    assert main(["quarantine", "list", *flags]) == 0
    assert capsys.readouterr().out == ""
