"""Real proxy responses over loopback HTTP validate against the generated contract."""

from __future__ import annotations

import httpx
import pytest

from ponte.contract.validate import assert_conforms
from ponte.localstack.stack import LocalStack
from tests.e2e.realtime_helpers import post_webhook, user_token, webhook_body

pytestmark = pytest.mark.e2e


def conforms(response: httpx.Response) -> None:
    assert_conforms(response.request.method, response.request.url.path, response.status_code, response.json())


def test_webhook_and_user_routes_answer_as_the_contract_says(stack: LocalStack) -> None:
    assert stack.demo is not None
    accepted = post_webhook(stack, webhook_body())
    invalid = post_webhook(stack, b"{oops")
    unauthorized = httpx.post(stack.webhook_url(), content=webhook_body(), timeout=10)
    health = httpx.get(f"{stack.proxy_url}/health", timeout=10)
    me = httpx.get(
        f"{stack.proxy_url}/me",
        headers={"Authorization": f"Bearer {user_token(stack, stack.demo.user_id)}"},
        timeout=10,
    )
    anonymous = httpx.get(f"{stack.proxy_url}/me", timeout=10)
    statuses = [r.status_code for r in (accepted, invalid, unauthorized, health, me, anonymous)]
    assert statuses == [200, 400, 401, 200, 200, 401]
    for response in (accepted, invalid, unauthorized, health, me, anonymous):
        conforms(response)
