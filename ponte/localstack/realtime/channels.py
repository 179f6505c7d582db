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


# Frames a client may have waiting to be written; one that falls this far behind is closed with
# SLOW_CLIENT_CLOSE (it can reconnect and reload), so that it never slows the others down.
MAX_BUFFERED_FRAMES = 2000
SLOW_CLIENT_CLOSE = 1013  # "try again later"


@dataclass(eq=False)
class Client:
    """One websocket. Frames are queued and written by the client's own writer task: fanning a
    broadcast out to many clients never waits on any one of them."""

    ws: ServerConnection
    vsn: str
    apikey: str
    channels: dict[str, Channel] = field(default_factory=dict)
    max_buffered: int = MAX_BUFFERED_FRAMES
    outbox: asyncio.Queue[str | bytes] = field(init=False)
    writer: asyncio.Task[None] | None = None
    dropped: bool = False

    def __post_init__(self) -> None:
        self.outbox = asyncio.Queue(self.max_buffered)

    async def send_raw(self, data: str | bytes) -> None:
        if self.dropped:
            return
        if self.writer is None:
            self.writer = asyncio.create_task(self._write())
        try:
            self.outbox.put_nowait(data)
        except asyncio.QueueFull:
            self.dropped = True
            logger.warning("a realtime client fell %d frames behind: closed", self.max_buffered)
            self.writer.cancel()
            self.writer = asyncio.create_task(self._close_slow())  # kept: a task needs a reference

    async def send(self, frame: Frame) -> None:
        await self.send_raw(encode(frame, self.vsn))

    async def _write(self) -> None:
        with suppress(ConnectionClosed):  # the connection handler cleans up
            while True:
                await self.ws.send(await self.outbox.get())

    async def _close_slow(self) -> None:
        with suppress(ConnectionClosed):
            await self.ws.close(SLOW_CLIENT_CLOSE, "too slow: send buffer full")

    def stop(self) -> None:
        if self.writer is not None:
            self.writer.cancel()


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
