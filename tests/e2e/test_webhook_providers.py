"""Both providers over loopback HTTP: WPPConnect with the secret in the path, Evolution with a
signed body, and an anomalous payload that lands in the quarantine instead of the inbox."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest

from ponte.localstack.seed import seed_tenant
from ponte.localstack.stack import LocalStack
from ponte.services.intake import SECRET_HEADER

pytestmark = pytest.mark.e2e

PROVIDERS = Path(__file__).resolve().parents[2] / "proxy" / "providers"
WPP_INSTANCE = "00000000-0000-4000-8000-00000000e5a1"
WPP_SECRET = "wpp-path-secret-for-tests"


def fixture(provider: str, name: str) -> bytes:
    return (PROVIDERS / provider / "fixtures" / f"{name}.json").read_bytes()


def wait_for(stack: LocalStack, sql: str, n: int, timeout: float = 15) -> list[Any]:
    deadline = time.monotonic() + timeout
    while True:
        with psycopg.connect(stack.dsn) as conn:
            rows = conn.execute(sql).fetchall()
        if len(rows) >= n or time.monotonic() > deadline:
            return rows
        time.sleep(0.1)


def test_wppconnect_with_the_secret_in_the_path_reaches_the_inbox(stack: LocalStack) -> None:
    assert stack.demo is not None
    with psycopg.connect(stack.dsn) as conn:
        seed_tenant(
            conn,
            tenant_id=stack.demo.tenant_id,
            name="Loja Demo",
            user_id=stack.demo.user_id,
            email=stack.demo.user_email,
            instance_id=WPP_INSTANCE,
            provider="wppconnect",
            gateway_instance="loja-norte",
            webhook_secret=WPP_SECRET,
        )
    url = f"{stack.proxy_url}/webhooks/wppconnect/{WPP_INSTANCE}/{WPP_SECRET}"
    body = fixture("wppconnect", "onmessage__chat-text-br-no9th-digit__01")
    response = httpx.post(url, content=body, headers={"Content-Type": "application/json"}, timeout=10)
    assert response.status_code == 200, response.text
    assert response.json() == {"outcome": "accepted", "events": 1, "dropped": 0}
    rows = wait_for(stack, f"select chat_key, body from public.messages where instance_id = '{WPP_INSTANCE}'", 1)
    # the legacy 12-digit @c.us JID became the 13-digit E.164 key
    assert [r[0] for r in rows] == ["+5548998126183"]
    wrong = httpx.post(f"{url}x", content=body, headers={"Content-Type": "application/json"}, timeout=10)
    assert wrong.status_code == 401


def test_signed_evolution_instance_and_quarantine(stack: LocalStack) -> None:
    assert stack.demo is not None
    key = "e2e-signing-key-0123456789"
    with psycopg.connect(stack.dsn) as conn:
        conn.execute(
            "insert into private.instance_webhook_signing (instance_id, hmac_key) values (%s, %s)",
            (stack.demo.instance_id, key),
        )
    stack.settings_changed(stack.demo.instance_id)  # else it applies within PONTE_SETTINGS_CACHE_SECONDS
    secret = stack.secrets.demo_webhook_secret
    body = fixture("evolution", "messages.upsert__missing-timestamp-constructed__01")
    signature = "sha256=" + hmac.new(key.encode(), body, hashlib.sha256).hexdigest()
    headers = {"Content-Type": "application/json", SECRET_HEADER: secret}
    unsigned = httpx.post(stack.webhook_url(), content=body, headers=headers, timeout=10)
    assert unsigned.status_code == 401
    signed = httpx.post(
        stack.webhook_url(), content=body, headers={**headers, "x-ponte-signature": signature}, timeout=10
    )
    assert (signed.status_code, signed.json()["code"]) == (422, "bad_timestamp")
    with psycopg.connect(stack.dsn) as conn:
        rows = conn.execute("select reason_code, raw_payload, replayed_at from public.webhook_quarantine").fetchall()
        diagnostics = conn.execute(
            "select error_code, detail from public.proxy_diagnostics order by id desc limit 1"
        ).fetchone()
    assert [(r[0], json.loads(r[1]), r[2]) for r in rows] == [("bad_timestamp", json.loads(body), None)]
    assert diagnostics is not None and diagnostics[0] == "bad_timestamp"
    assert diagnostics[1]["quarantine"] == "stored"
