"""What a newcomer sees on ``ponte up --demo``: a current inbox (SLAs running, one breached, several
priorities) read through the proxy, and logs that are one JSON line per event at the chosen level."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest

from ponte.cli.up import run_demo
from ponte.localstack.demo_inbox import DEMO_MESSAGES
from ponte.localstack.stack import LocalStack
from tests.e2e.test_leads_analysis import payload, post

JS_DIR = Path(__file__).resolve().parents[1] / "js"

pytestmark = pytest.mark.e2e


def test_the_demo_inbox_is_current_with_sla_running_and_one_breached(
    stack: LocalStack, capsys: pytest.CaptureFixture[str]
) -> None:
    run_demo(stack)
    out = capsys.readouterr().out
    token = stack.demo_token()
    items = httpx.get(
        f"{stack.proxy_url}/conversations", headers={"Authorization": f"Bearer {token}"}, timeout=10
    ).json()["items"]
    now = datetime.now(UTC)
    assert len(items) == len(DEMO_MESSAGES)
    assert all(now - datetime.fromisoformat(i["last_activity_at"]) < timedelta(hours=6) for i in items)
    breached = [i for i in items if i["sla_breached"]]
    assert [i["contact"]["display_name"] for i in breached] == ["João Teste"]
    running = [i for i in items if not i["sla_breached"]]
    assert all(datetime.fromisoformat(i["sla_due_at"]) > now for i in running)
    assert len({i["priority"] for i in items}) >= 3
    assert out.count("SLA BREACHED") == 1 and "GET /conversations" in out


def test_ponte_up_logs_one_json_line_per_event_and_no_request_lines(db_dsn: str, tmp_path: Path) -> None:
    state = tmp_path / "state"
    argv = [sys.executable, "-m", "ponte.cli.main", "up", "--demo", "--exit", "--no-worker", "--port", "0"]
    argv += ["--realtime-port", "0", "--log-level", "INFO", "--state-dir", str(state)]
    env = {**os.environ, "DATABASE_URL": db_dsn}
    env.pop("POWERTOOLS_LOG_LEVEL", None)
    done = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=180, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    lines = (done.stdout + done.stderr).splitlines()
    events = [line for line in lines if line.startswith("{")]
    parsed = [json.loads(line) for line in events]
    assert any(e["message"] == "analyze" and e["level"] == "INFO" for e in parsed)  # INFO asked, INFO shown
    assert len(events) == len(set(events))  # no line printed twice (Chalice's handler and Powertools')
    assert not [line for line in lines if re.match(r"^ponte-\w+ - (INFO|WARNING|ERROR)", line)]
    assert not [line for line in lines if '"POST /webhooks' in line]  # request lines only with --verbose
    stack = json.loads((state / "stack.json").read_text())
    assert stack["tenant_id"] and stack["instance_id"] and stack["topics"]["tenant"].endswith(stack["tenant_id"])
    assert f"{stack['proxy_url']}/conversations" in done.stdout  # the copy-paste curl
    # the web inbox, signed in as the demo owner by the token in the fragment (`make inbox` built it)
    assert f"{stack['inbox_url']}#access_token=" in done.stdout


def test_the_readme_watch_script_prints_the_tenant_broadcasts(stack: LocalStack) -> None:
    # GIVEN `node tests/js/watch_inbox.mjs STATE_DIR` with the owner's token, as the README says
    node = shutil.which("node")
    assert node, "Node.js >= 20 is required"
    env = {**os.environ, "PONTE_TOKEN": stack.demo_token()}
    argv = [node, str(JS_DIR / "watch_inbox.mjs"), str(stack.state_dir), "--count", "3"]
    proc = subprocess.Popen(argv, cwd=JS_DIR, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert proc.stderr is not None
        subscribed = next((line for line in proc.stderr if "SUBSCRIBED" in line or "ERROR" in line), "")
        assert subscribed.endswith(": SUBSCRIBED\n"), subscribed
        # WHEN a customer writes
        body = payload("WATCH-1", "5511987650051@s.whatsapp.net", "Oi, tudo bem?", datetime.now(UTC))
        assert post(stack, body).status_code == 200
        out, _ = proc.communicate(timeout=30)
    finally:
        proc.kill()
    # THEN the script printed its broadcasts, one JSON line each, and exited after three
    assert proc.returncode == 0
    events = [json.loads(line) for line in out.splitlines()]
    assert len(events) == 3 and events[0]["event"] == "conversation_created"
    [created] = [e["payload"] for e in events if e["event"] == "message_created"]
    assert created["body"] == "Oi, tudo bem?"
