"""Every user route of the contract, over HTTP, fed hostile input as an authenticated owner, an
agent and another tenant's owner: bodies that are not JSON, not an object, nested thousands deep,
with NUL characters and lone surrogates, huge arrays and strings; path ids that are not ids, are
unknown or belong to another tenant; query strings of the same kind. Each answer must be a 4xx
with a machine code and a reason (or a 2xx where the input happens to be acceptable, e.g. an
ignored query parameter) -- never a 5xx, never a hang."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from ponte.localstack.jwt_tokens import mint_token
from ponte.localstack.seed import DEMO_AGENT_ID
from ponte.localstack.stack import LocalStack
from tests.e2e.conftest import OTHER_USER

pytestmark = pytest.mark.e2e

OPENAPI = Path(__file__).resolve().parents[2] / "frontend_contract" / "openapi.json"
# the webhooks are fuzzed on their own (test_http_fuzz, test_hostile_webhooks); /metrics speaks text
SKIPPED = ("/webhooks/", "/metrics", "/health")
UNKNOWN_ID = "00000000-0000-4000-8000-00000000dead"

BODIES: list[bytes] = [
    b"",
    b"{oops",
    b"null",
    b"[]",
    b'"text"',
    b"1e999",
    b"[" * 5000 + b"]" * 5000,
    b'{"a":' * 3000 + b"1" + b"}" * 3000,
    json.dumps({"name": "\x00" * 64, "text": "\x00", "phone": "\x00", "tenant_id": "\x00"}).encode(),
    b'{"text": "\\ud800", "name": "\\udfff", "phone": "\\ud800"}',
    json.dumps({"items": list(range(100_000)), "variants": ["a"] * 10_000}).encode(),
    json.dumps({"text": "a" * 300_000, "name": "b" * 100_000}).encode(),
    json.dumps({"tenant_id": UNKNOWN_ID, "phone": "+5511987654321", "limit": 10**30}).encode(),
    b"\xff\xfe\x00garbage",
]
PATH_IDS = ["x", UNKNOWN_ID, "'; drop table messages; --", "a" * 2000, "%00", "%ED%A0%80", "..%2F..%2Fetc"]
QUERIES: list[dict[str, str]] = [
    {"limit": "-1", "cursor": "!!!", "tenant_id": "x"},
    {"limit": "1" + "0" * 40, "cursor": "a" * 5000, "before": "x"},
    {"q": "\x00", "from": "yesterday", "to": "\x00", "phone": "\x00"},
    {"q": "a" * 10_000, "tenant_id": UNKNOWN_ID, "updated_since": "9999-99-99"},
    {"status": "\x00", "priority": "[]", "unread": "maybe", "sla": "x", "instance_id": "x"},
]


def routes() -> Iterator[tuple[str, str]]:
    paths: dict[str, dict[str, Any]] = json.loads(OPENAPI.read_text())["paths"]
    for path, operations in sorted(paths.items()):
        if path.startswith(SKIPPED):
            continue
        for method in operations:
            if method in ("get", "post", "put", "patch", "delete"):
                yield method.upper(), path


def concrete(path: str, value: str) -> str:
    out = path
    while "{" in out:
        start, end = out.index("{"), out.index("}")
        out = out[:start] + value + out[end + 1 :]
    return out


def other_tenants_ids(stack: LocalStack) -> list[str]:
    """Ids of the demo tenant's rows: for the other tenant's owner they belong to someone else."""
    assert stack.db is not None
    with stack.db.as_service() as conn:
        rows = conn.execute(
            "select (select id::text from public.conversations limit 1) as c,"
            " (select id::text from public.messages limit 1) as m,"
            " (select id::text from public.whatsapp_instances limit 1) as i"
        ).fetchone()
    assert rows is not None
    return [v for v in rows.values() if v]


def check(response: httpx.Response, what: str, failures: list[str]) -> None:
    if response.status_code >= 500:
        failures.append(f"{what}: {response.status_code} {response.text[:200]}")
        return
    if response.status_code >= 400:
        try:
            body = response.json()
        except ValueError:
            failures.append(f"{what}: {response.status_code} without a JSON body")
            return
        if not (isinstance(body, dict) and body.get("code") and body.get("message")):
            failures.append(f"{what}: {response.status_code} without code and message: {response.text[:200]}")


def test_every_route_answers_hostile_input_with_a_clear_4xx(stack: LocalStack) -> None:
    assert stack.demo is not None
    tokens = {
        "owner": mint_token(stack.secrets.jwt_secret, sub=stack.demo.user_id),
        "agent": mint_token(stack.secrets.jwt_secret, sub=DEMO_AGENT_ID),
        "outsider": mint_token(stack.secrets.jwt_secret, sub=OTHER_USER),
    }
    foreign = other_tenants_ids(stack)
    failures: list[str] = []
    requests = 0
    with httpx.Client(base_url=stack.proxy_url, timeout=10) as client:
        for method, path in routes():
            for who, token in tokens.items():
                headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
                # the other tenant's owner gets the demo tenant's real ids; the owner every hostile body
                ids = (foreign if who == "outsider" else PATH_IDS) if "{" in path else [""]
                for value in ids:
                    url = concrete(path, value)
                    what = f"{who} {method} {url[:80]}"
                    if method in ("GET", "DELETE"):
                        for params in QUERIES:
                            check(client.request(method, url, params=params, headers=headers), what, failures)
                            requests += 1
                        continue
                    full = who == "owner" and value in ("", UNKNOWN_ID)
                    for body in BODIES if full else BODIES[:4]:
                        response = client.request(method, url, content=body, headers=headers)
                        check(response, f"{what} body {body[:40]!r}", failures)
                        requests += 1
    assert requests > 1000
    assert not failures, f"{len(failures)} of {requests} requests:\n" + "\n".join(failures[:40])
