"""The local stack serves the reference web inbox beside the API (same origin) and says where
(stack.json's inbox_url); GET /instances gives the page the tenant's numbers."""

from __future__ import annotations

import http.client
import json
from urllib.parse import urlsplit

import httpx
import jwt
import pytest

from ponte.contract.validate import assert_conforms
from ponte.localstack.jwt_tokens import mint_token
from ponte.localstack.seed import DEMO_AGENT_ID
from ponte.localstack.stack import LocalStack
from tests.e2e.conftest import OTHER_USER

pytestmark = pytest.mark.e2e


def raw_get(stack: LocalStack, path: str) -> tuple[int, bytes]:
    """A request line sent as is (httpx would normalize ../ and encode the rest)."""
    url = urlsplit(stack.proxy_url)
    conn = http.client.HTTPConnection(url.hostname or "127.0.0.1", url.port, timeout=10)
    try:
        conn.putrequest("GET", path, skip_accept_encoding=True)
        conn.endheaders()
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


def test_the_inbox_is_served_under_inbox_url_with_public_config_only(stack: LocalStack) -> None:
    state = json.loads((stack.state_dir / "stack.json").read_text())
    assert state["inbox_url"] == f"{stack.proxy_url}/inbox" == stack.inbox_url
    assert httpx.get(stack.inbox_url, timeout=10).status_code == 302
    page = httpx.get(f"{stack.inbox_url}/conversa/00000000-0000-4000-8000-000000000001", timeout=10)
    assert page.status_code == 200 and '<base href="/inbox/"' in page.text and 'src="app.js"' in page.text
    assert "connect-src 'self' ws://" in page.headers["content-security-policy"]
    assert httpx.get(f"{stack.inbox_url}/app.js", timeout=10).headers["content-type"].startswith("text/javascript")
    config = httpx.get(f"{stack.inbox_url}/config.json", timeout=10).json()
    assert set(config) == {"supabase_url", "anon_key"} and config["supabase_url"] == stack.supabase_url
    claims = jwt.decode(config["anon_key"], stack.secrets.jwt_secret, algorithms=["HS256"], audience="anon")
    assert claims["role"] == "anon"  # the public key supabase-js needs, nothing a user could act with
    for path in ("/inbox/../pyproject.toml", "/inbox/..%2f..%2fpyproject.toml", "/inbox/%00", "/inbox/x%00.js"):
        status, body = raw_get(stack, path)
        assert status in (200, 403, 404) and b"[project]" not in body, path
    # the API beside it is untouched
    assert httpx.get(f"{stack.proxy_url}/conversations", timeout=10).status_code == 401


def test_instances_are_the_callers_tenants_own(stack: LocalStack) -> None:
    assert stack.demo is not None

    def get(user: str | None) -> httpx.Response:
        headers = {"Authorization": f"Bearer {mint_token(stack.secrets.jwt_secret, sub=user)}"} if user else {}
        return httpx.get(f"{stack.proxy_url}/instances?limit=%00&x=" + "9" * 5000, headers=headers, timeout=10)

    owner, agent, stranger, anonymous = get(stack.demo.user_id), get(DEMO_AGENT_ID), get(OTHER_USER), get(None)
    # the demo's Evolution number and its Cloud API number
    items = {i["id"]: i["provider"] for i in owner.json()["items"]}
    assert items == {stack.demo.instance_id: stack.demo.provider, stack.demo.cloud_instance_id: "cloud"}
    assert agent.json() == owner.json()  # agents filter the inbox by instance too
    assert stranger.json() == {"items": []}
    assert anonymous.status_code == 401
    for response in (owner, stranger, anonymous):
        assert_conforms("GET", "/instances", response.status_code, response.json())
