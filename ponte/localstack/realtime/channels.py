"""Server-side state: one websocket connection and the channels it joined."""

from __future__ import annotations

import asyncio
import logging
from contextlib import suppress
from dataclasses import dataclass, field
from typing import Any

from websockets.asyncio.server import ServerConnection
from websockets.exceptions import ConnectionClosed

from ponte.localstack.realtime.changes import Binding
from ponte.localstack.realtime.protocol import Frame, encode

logger = logging.getLogger("ponte.realtime")


@dataclass(eq=False)
class Client:
    ws: ServerConnection
    vsn: str
    apikey: str
    channels: dict[str, Channel] = field(default_factory=dict)

    async def send_raw(self, data: str | bytes) -> None:
        with suppress(ConnectionClosed):  # the connection handler cleans up
            await self.ws.send(data)

    async def send(self, frame: Frame) -> None:
        await self.send_raw(encode(frame, self.vsn))


@dataclass(eq=False)
class Channel:
    client: Client
    topic: str  # "realtime:<sub_topic>", as the client names it
    sub_topic: str
    join_ref: str | None
    private: bool
    self_broadcast: bool
    ack_broadcast: bool
    token: str
    claims: dict[str, Any]
    bindings: list[Binding]
    can_write: bool | None = None  # private channels: learnt on the first client broadcast
    expiry: asyncio.TimerHandle | None = None

    @property
    def key(self) -> tuple[str, bool]:
        """Broadcasts reach channels with the same sub-topic AND the same privacy (upstream's tenant_topic)."""
        return (self.sub_topic, self.private)

    def push(self, event: str, payload: dict[str, Any]) -> Frame:
        return Frame(self.topic, event, payload, None, self.join_ref)

    def cancel_expiry(self) -> None:
        if self.expiry is not None:
            self.expiry.cancel()
            self.expiry = None
