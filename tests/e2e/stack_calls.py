"""What the e2e tests do to a running local stack: wait for a condition, read the database as the
service role, call the proxy as a user of the demo tenant."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import httpx

from ponte.localstack.jwt_tokens import mint_token
from ponte.localstack.stack import LocalStack


def wait(check: Callable[[], Any], timeout: float = 15.0, interval: float = 0.1) -> Any:
    """``check()``'s first truthy value, or its last value once ``timeout`` seconds passed."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value or time.monotonic() > deadline:
            return value
        time.sleep(interval)


def sql(stack: LocalStack, query: str, *args: Any) -> list[dict[str, Any]]:
    assert stack.db is not None
    with stack.db.as_service() as conn:
        rows: list[dict[str, Any]] = conn.execute(query, args).fetchall()
    return rows


def call(stack: LocalStack, method: str, path: str, user: str | None = None, **kw: Any) -> httpx.Response:
    """The proxy over HTTP with a fresh JWT of ``user`` (the demo owner by default)."""
    assert stack.demo is not None
    token = mint_token(stack.secrets.jwt_secret, sub=user or stack.demo.user_id)
    return httpx.request(method, stack.proxy_url + path, headers={"Authorization": f"Bearer {token}"}, timeout=30, **kw)
