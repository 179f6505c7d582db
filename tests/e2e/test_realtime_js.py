"""The official supabase-js client, run by Node, against the local stack's realtime server."""

from __future__ import annotations

import json
import shutil
import subprocess
import uuid
from pathlib import Path
from typing import Any

import pytest

from ponte.domain.realtime import MessagePayload
from ponte.localstack.stack import LocalStack
from tests.e2e.conftest import OTHER_TENANT, OTHER_USER
from tests.e2e.realtime_helpers import post_webhook, user_token, webhook_body

pytestmark = pytest.mark.e2e

JS_DIR = Path(__file__).resolve().parents[1] / "js"


def read_line(proc: subprocess.Popen[str], key: str) -> Any:
    assert proc.stdout is not None
    for line in proc.stdout:
        if line.startswith("{"):
            message = json.loads(line)
            if key in message:
                return message[key]
    raise AssertionError(f"node exited without {key!r}: {proc.stderr.read() if proc.stderr else ''}")


def test_supabase_js_member_receives_the_webhook_message_and_nobody_else_does(stack: LocalStack) -> None:
    assert stack.demo is not None
    assert (JS_DIR / "node_modules" / "@supabase" / "supabase-js").is_dir(), "run `make venv` (npm ci)"
    node = shutil.which("node")
    assert node, "Node.js >= 20 is required"
    scenario = {
        "url": stack.supabase_url,
        "anonKey": stack.anon_key(),
        "tenantId": stack.demo.tenant_id,
        "otherTenantId": OTHER_TENANT,
        "memberToken": user_token(stack, stack.demo.user_id),
        "outsiderToken": user_token(stack, OTHER_USER),
        "expiringToken": user_token(stack, stack.demo.user_id, ttl_seconds=3),
        "roomId": str(uuid.uuid4()),
        "timeoutMs": 15000,
        "quietMs": 1000,
    }
    proc = subprocess.Popen(
        [node, str(JS_DIR / "realtime_clients.mjs"), json.dumps(scenario)],
        cwd=JS_DIR,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        # GIVEN supabase-js clients subscribed (a member, an outsider on their own tenant) ...
        ready = read_line(proc, "ready")
        assert ready["inbox"] == ["SUBSCRIBED"]
        assert ready["outsiderOwn"] == ["SUBSCRIBED"]
        # ... and the outsider refused on the tenant's private topic
        assert ready["refused"]["states"][0] == "CHANNEL_ERROR"
        assert "You do not have permissions to read from this Channel topic" in ready["refused"]["errors"][0]
        # WHEN the gateway posts a message to the proxy
        assert post_webhook(stack, webhook_body()).status_code == 200
        result = read_line(proc, "result")
        assert proc.wait(timeout=30) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    # THEN the member got it, shaped as the contract says, with the database message id in meta
    assert result["gotMessage"] is True
    created = next(m for m in result["inbox"] if m["event"] == "message_created")
    assert MessagePayload.model_validate(created["payload"]).direction == "in"
    assert created["meta"]["id"]
    # AND the other tenant's member received nothing
    assert result["outsiderOwn"] == []
    assert result["refused"] == []
    # AND the client whose token expired was told so
    errors = [s for s in result["expiring"]["systems"] if s["status"] == "error"]
    assert errors and errors[0]["message"].startswith("Token has expired")
    # AND binary client broadcasts (kind 3 in, kind 4 out) round-trip with ack, and heartbeats are answered
    assert result["room"]["ack"] == "ok"
    assert result["room"]["broadcasts"][0]["event"] == "typing"
    assert result["room"]["broadcasts"][0]["payload"] == {"who": "agente", "text": "olá ✓"}
    assert result["heartbeats"]["ok"] >= 1 and result["heartbeats"]["timeout"] == 0
