"""A realtime client that stops reading is closed once it falls behind (1013, "try again later"),
and never slows the delivery to the others: each client has its own bounded send queue."""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

import psycopg
import pytest
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from ponte.localstack.jwt_tokens import mint_token
from ponte.localstack.realtime.channels import SLOW_CLIENT_CLOSE
from ponte.localstack.realtime.server import RealtimeServer
from ponte.localstack.seed import seed_tenant

pytestmark = pytest.mark.integration

TENANT = "00000000-0000-4000-8000-0000000007a1"
USER = "00000000-0000-4000-8000-0000000007a2"
SECRET = "slow-client-test-secret-0123456789abcdef"
FRAMES = 3000


async def join(url: str, token: str, **options: Any) -> ClientConnection:
    ws = await connect(f"{url}?apikey={token}&vsn=1.0.0", **options)
    topic = f"realtime:tenant:{TENANT}"
    config = {"private": True, "broadcast": {"self": False, "ack": False}}
    await ws.send(
        json.dumps(
            {
                "topic": topic,
                "event": "phx_join",
                "payload": {"config": config, "access_token": token},
                "ref": "1",
                "join_ref": "1",
            }
        )
    )
    reply = json.loads(await ws.recv())
    assert reply["payload"]["status"] == "ok", reply
    return ws


def test_a_client_that_stops_reading_is_closed_and_the_others_get_everything(db_dsn: str) -> None:
    with psycopg.connect(db_dsn) as conn:
        seed_tenant(conn, tenant_id=TENANT, name="T", user_id=USER, email="slow@t.local")
    server = RealtimeServer(db_dsn, SECRET, max_buffered_frames=100).start()
    token = mint_token(SECRET, sub=USER)

    async def scenario() -> tuple[int, float, int | None]:
        # a slow client: tiny receive buffers, and it never reads again after joining
        slow = await join(server.websocket_url, token, max_size=2**20, max_queue=1)
        fast = await join(server.websocket_url, token)
        started = time.monotonic()
        with psycopg.connect(db_dsn, autocommit=True) as conn:
            conn.execute(
                "select private.broadcast_to_tenant(%s, 'load', jsonb_build_object('n', g, 'pad', repeat('x', 2000)))"
                " from generate_series(1, %s) g",
                (TENANT, FRAMES),
            )
        received = 0
        while received < FRAMES:
            frame = json.loads(await asyncio.wait_for(fast.recv(), 20))
            if frame.get("event") == "broadcast":
                received += 1
        elapsed = time.monotonic() - started
        # the slow client wakes up: it finds what was buffered before the cut, then the close
        behind = 0
        try:
            while True:
                frame = json.loads(await asyncio.wait_for(slow.recv(), 20))
                behind += frame.get("event") == "broadcast"
        except ConnectionClosed:
            pass
        assert behind < FRAMES
        code = slow.close_code
        await fast.close()
        return received, elapsed, code

    try:
        received, elapsed, code = asyncio.run(scenario())
    finally:
        server.stop()
    assert received == FRAMES
    assert code == SLOW_CLIENT_CLOSE
    assert elapsed < 15, elapsed
