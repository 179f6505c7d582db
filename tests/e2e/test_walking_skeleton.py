"""Walking skeleton: a gateway webhook becomes exactly one RLS-protected row."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest

from ponte.localstack.stack import LocalStack
from ponte.services.intake import SECRET_HEADER
from tests.e2e.conftest import OTHER_USER

pytestmark = pytest.mark.e2e

PAYLOAD = (
    Path(__file__).resolve().parents[2] / "ponte/localstack/demo/evolution/messages.upsert__text-inbound-v2__01.json"
).read_bytes()


def post(stack: LocalStack, body: bytes, secret: str | None = None, **kw: Any) -> httpx.Response:
    headers = {"Content-Type": "application/json", SECRET_HEADER: secret or stack.secrets.demo_webhook_secret}
    return httpx.post(stack.webhook_url(), content=body, headers=headers, timeout=10, **kw)


def read_messages(stack: LocalStack, claims: dict[str, Any]) -> list[dict[str, Any]]:
    assert stack.db is not None
    with stack.db.as_user(claims) as conn:
        rows: list[dict[str, Any]] = conn.execute(
            "select provider_message_id, body, direction from public.messages"
        ).fetchall()
        return rows


def wait_for_rows(stack: LocalStack, claims: dict[str, Any], n: int, timeout: float = 15) -> list[dict[str, Any]]:
    deadline = time.monotonic() + timeout
    rows = read_messages(stack, claims)
    while len(rows) < n and time.monotonic() < deadline:
        time.sleep(0.1)
        rows = read_messages(stack, claims)
    return rows


def queue_is_drained(stack: LocalStack) -> bool:
    attrs = stack.sqs.get_queue_attributes(
        QueueUrl=stack.settings.ingest_queue_url,
        AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
    )["Attributes"]
    return bool(attrs["ApproximateNumberOfMessages"] == "0" and attrs["ApproximateNumberOfMessagesNotVisible"] == "0")


def test_webhook_becomes_one_row_only_its_tenant_reads(stack: LocalStack) -> None:
    assert stack.demo is not None
    member = {"sub": stack.demo.user_id, "role": "authenticated"}
    # WHEN the gateway posts one text message
    response = post(stack, PAYLOAD)
    assert response.status_code == 200, response.text
    assert response.json()["outcome"] == "accepted"
    # THEN a member of the tenant reads exactly one message through RLS
    rows = wait_for_rows(stack, member, 1)
    assert [(r["provider_message_id"], r["direction"]) for r in rows] == [("3EB0A1B2C3D4E5F6A7B8C9", "in")]
    assert "tamanho 38" in rows[0]["body"]
    # AND a member of another tenant and anon read nothing
    assert read_messages(stack, {"sub": OTHER_USER, "role": "authenticated"}) == []
    assert read_messages(stack, {"role": "anon"}) == []


def test_second_delivery_adds_nothing(stack: LocalStack) -> None:
    assert stack.demo is not None
    member = {"sub": stack.demo.user_id, "role": "authenticated"}
    assert post(stack, PAYLOAD).status_code == 200
    wait_for_rows(stack, member, 1)
    # WHEN the gateway retries the same payload
    assert post(stack, PAYLOAD).status_code == 200
    deadline = time.monotonic() + 15
    while not queue_is_drained(stack) and time.monotonic() < deadline:
        time.sleep(0.1)
    # THEN it was consumed and still one row exists
    assert queue_is_drained(stack)
    assert len(read_messages(stack, member)) == 1


def test_bad_input_is_rejected_with_reasons_and_recorded(stack: LocalStack) -> None:
    assert stack.demo is not None
    invalid = post(stack, b"{oops")
    unauthorized = post(stack, PAYLOAD, secret="not-the-secret")
    too_large = post(stack, b'{"event":"messages.upsert","pad":"' + b"x" * (1024 * 1024) + b'"}')
    assert (invalid.status_code, invalid.json()["code"]) == (400, "invalid_json")
    assert (unauthorized.status_code, unauthorized.json()["code"]) == (401, "unauthorized")
    assert (too_large.status_code, too_large.json()["code"]) == (413, "payload_too_large")
    with psycopg.connect(stack.dsn) as conn:
        codes = [r[0] for r in conn.execute("select error_code from public.proxy_diagnostics order by id")]
    assert codes == ["invalid_json", "unauthorized", "payload_too_large"]
