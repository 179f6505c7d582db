"""A user-facing route under the caller's row-level security, authenticated by the Supabase JWT."""

from __future__ import annotations

import httpx
import pytest

from ponte.localstack.jwt_tokens import mint_token
from ponte.localstack.stack import LocalStack

pytestmark = pytest.mark.e2e


def test_me_lists_only_the_callers_tenants(stack: LocalStack) -> None:
    assert stack.demo is not None
    response = httpx.get(f"{stack.proxy_url}/me", headers={"Authorization": f"Bearer {stack.demo_token()}"})
    assert response.status_code == 200
    body = response.json()
    assert body["user_id"] == stack.demo.user_id
    assert [(m["tenant_name"], m["role"]) for m in body["memberships"]] == [("Loja Demo", "owner")]


@pytest.mark.parametrize("kind", ["missing", "expired", "wrong_secret"])
def test_bad_tokens_get_401_without_detail(stack: LocalStack, kind: str) -> None:
    assert stack.demo is not None
    tokens = {
        "missing": None,
        "expired": mint_token(stack.secrets.jwt_secret, sub=stack.demo.user_id, ttl_seconds=-30),
        "wrong_secret": mint_token("x" * 48, sub=stack.demo.user_id),
    }
    token = tokens[kind]
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    response = httpx.get(f"{stack.proxy_url}/me", headers=headers)
    assert response.status_code == 401
    assert response.json() == {"code": "unauthorized", "message": "invalid or missing access token"}
