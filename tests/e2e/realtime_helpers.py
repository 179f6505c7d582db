"""Shared pieces of the realtime end-to-end tests: tokens, a subscription recorder, webhooks."""

from __future__ import annotations

import asyncio
import json
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from ponte.localstack.jwt_tokens import mint_token
from ponte.localstack.stack import LocalStack
from ponte.services.intake import SECRET_HEADER

PAYLOAD_FILE = (
    Path(__file__).resolve().parents[2] / "ponte/localstack/demo/evolution/messages.upsert__text-inbound-v2__01.json"
)


def user_token(stack: LocalStack, user_id: str, ttl_seconds: int = 3600) -> str:
    return mint_token(stack.secrets.jwt_secret, sub=user_id, ttl_seconds=ttl_seconds)


def webhook_body(message_id: str | None = None) -> bytes:
    """The demo Evolution text message, with a fresh provider message id so each post is a new message."""
    payload = json.loads(PAYLOAD_FILE.read_bytes())
    payload["data"]["key"]["id"] = message_id or uuid.uuid4().hex[:20].upper()
    return json.dumps(payload).encode()


def post_webhook(stack: LocalStack, body: bytes) -> httpx.Response:
    headers = {"Content-Type": "application/json", SECRET_HEADER: stack.secrets.demo_webhook_secret}
    return httpx.post(stack.webhook_url(), content=body, headers=headers, timeout=10)


@dataclass
class Recorder:
    """Collects what a realtime-py channel receives, and lets a test await it."""

    states: list[tuple[str, str | None]] = field(default_factory=list)
    broadcasts: list[dict[str, Any]] = field(default_factory=list)
    changes: list[dict[str, Any]] = field(default_factory=list)
    systems: list[dict[str, Any]] = field(default_factory=list)
    _changed: asyncio.Event = field(default_factory=asyncio.Event)

    def on_state(self, state: Any, error: Exception | None) -> None:
        self.states.append((str(getattr(state, "value", state)), str(error) if error else None))
        self._poke()

    def on_broadcast(self, payload: Any) -> None:
        self.broadcasts.append(dict(payload))
        self._poke()

    def on_change(self, payload: Any) -> None:
        self.changes.append(dict(payload))
        self._poke()

    def on_system(self, payload: Any) -> None:
        self.systems.append(dict(payload))
        self._poke()

    def _poke(self) -> None:
        self._changed.set()

    async def wait_for(self, predicate: Any, timeout: float = 15) -> None:
        async def loop() -> None:
            while not predicate(self):
                self._changed.clear()
                await self._changed.wait()

        await asyncio.wait_for(loop(), timeout)

    def state_names(self) -> list[str]:
        return [s for s, _ in self.states]
