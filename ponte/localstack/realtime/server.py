"""A local server that speaks Supabase Realtime's protocol, so unmodified official
clients (supabase-js, realtime-py) work against the local stack.

Phoenix channels over a websocket at ``/realtime/v1/websocket`` (vsn 1.0.0 and 2.0.0),
heartbeats, JWT verification with the stack's secret, ``access_token`` refresh and a
``system`` error when a token expires, private channels authorized by RLS on
``realtime.messages``, broadcast (client and from database), and postgres_changes
filtered by each subscriber's RLS. Rows are learnt from NOTIFY, which PostgreSQL sends
at commit (see ``infra/supabase/compat/10_realtime.sql``).

It runs its own asyncio loop in a thread, beside the rest of the (threaded) local stack.
"""

from __future__ import annotations

import asyncio
import json
import logging
import threading
from collections import defaultdict
from contextlib import suppress
from typing import Any
from urllib.parse import parse_qs, urlsplit

import psycopg
from psycopg_pool import AsyncConnectionPool
from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.datastructures import Headers
from websockets.exceptions import ConnectionClosed
from websockets.http11 import Request, Response

from ponte.localstack.exceptions import LocalStackError
from ponte.localstack.realtime import tokens
from ponte.localstack.realtime.authorization import authorize
from ponte.localstack.realtime.changes import Binding, BindingError, Change, Columns, read_as
from ponte.localstack.realtime.channels import MAX_BUFFERED_FRAMES, Channel, Client
from ponte.localstack.realtime.protocol import (
    SUPPORTED_VSN,
    VSN_1,
    Frame,
    ProtocolError,
    decode,
    encode_broadcast,
    reply,
)

logger = logging.getLogger("ponte.realtime")

WEBSOCKET_PATH = "/realtime/v1/websocket"
BROADCAST_CHANNEL = "realtime_local_broadcast"
CHANGES_CHANNEL = "realtime_local_changes"


class RealtimeServer:
    def __init__(
        self,
        dsn: str,
        jwt_secret: str,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        max_buffered_frames: int = MAX_BUFFERED_FRAMES,
    ) -> None:
        self._max_buffered = max_buffered_frames
        self._dsn = dsn
        self._secret = jwt_secret
        self.host = host
        self.port = port
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stopping: asyncio.Event | None = None
        self._ready = threading.Event()
        self._error: BaseException | None = None
        self._pool: AsyncConnectionPool[Any] | None = None
        self._topics: dict[tuple[str, bool], set[Channel]] = defaultdict(set)
        self._change_channels: set[Channel] = set()
        self._published: set[tuple[str, str]] = set()
        self._columns = Columns()
        self._changes: asyncio.Queue[Change] | None = None

    # -- lifecycle ---------------------------------------------------------------------

    @property
    def url(self) -> str:
        """What supabase-js' ``createClient`` and supabase-py take as the project URL."""
        return f"http://{self.host}:{self.port}"

    @property
    def websocket_url(self) -> str:
        return f"ws://{self.host}:{self.port}{WEBSOCKET_PATH}"

    def start(self, timeout: float = 30) -> RealtimeServer:
        self._thread = threading.Thread(target=self._run, name="realtime", daemon=True)
        self._thread.start()
        if not self._ready.wait(timeout):
            raise LocalStackError("the realtime server did not start in time")
        if self._error is not None:
            raise LocalStackError(f"the realtime server failed to start: {self._error}") from self._error
        return self

    def alive(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def stop(self) -> None:
        if self._loop is not None and self._stopping is not None:
            self._loop.call_soon_threadsafe(self._stopping.set)
        if self._thread is not None:
            self._thread.join(timeout=15)
            self._thread = None

    def _run(self) -> None:
        try:
            asyncio.run(self._main())
        except BaseException as exc:
            self._error = exc
            self._ready.set()

    async def _main(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._stopping = asyncio.Event()
        self._changes = asyncio.Queue()
        self._pool = AsyncConnectionPool(self._dsn, min_size=2, max_size=6, open=False, name="realtime")
        await self._pool.open(wait=True)
        listener = await psycopg.AsyncConnection.connect(self._dsn, autocommit=True)
        tasks: list[asyncio.Task[None]] = []
        try:
            await self._prepare_database(listener)
            async with serve(
                self._handle,
                self.host,
                self.port,
                process_request=self._check_request,
                compression=None,
                ping_interval=None,
            ) as server:
                self.port = _bound_port(server)
                tasks = [
                    asyncio.create_task(self._listen(listener)),
                    asyncio.create_task(self._process_changes()),
                ]
                self._ready.set()
                await self._stopping.wait()
        finally:
            for task in tasks:
                task.cancel()
            for task in tasks:
                with suppress(asyncio.CancelledError, Exception):
                    await task
            await listener.close()
            await self._pool.close()

    async def _prepare_database(self, conn: psycopg.AsyncConnection[Any]) -> None:
        has_local = await (
            await conn.execute("select to_regprocedure('realtime.local_sync_change_triggers()') is not null")
        ).fetchone()
        if not (has_local and has_local[0]):
            raise LocalStackError("the realtime compat layer is missing (infra/supabase/compat/10_realtime.sql)")
        await self._sync_publication(conn)
        # a database made before the compat layer said so (10_realtime.sql): broadcasts fired under
        # session_replication_role = replica (the purge's fast delete) are delivered too
        await conn.execute("alter table realtime.messages enable always trigger local_notify_broadcast")
        # Upstream drops daily partitions after a few days; locally, keep a day.
        await conn.execute("delete from realtime.messages where inserted_at < now() - interval '1 day'")
        await conn.execute(f"listen {BROADCAST_CHANNEL}")
        await conn.execute(f"listen {CHANGES_CHANNEL}")

    async def _sync_publication(self, conn: psycopg.AsyncConnection[Any]) -> None:
        rows = await (await conn.execute("select realtime.local_sync_change_triggers()")).fetchall()
        self._published = {(r[0].split(".", 1)[0], r[0].split(".", 1)[1]) for r in rows}

    # -- websocket ---------------------------------------------------------------------

    def _check_request(self, connection: ServerConnection, request: Request) -> Response | None:
        parts = urlsplit(request.path)
        if parts.path.rstrip("/") != WEBSOCKET_PATH:
            return _http_error(404, "not found")
        query = parse_qs(parts.query)
        vsn = query.get("vsn", [VSN_1])[0]
        if vsn not in SUPPORTED_VSN:
            return _http_error(400, f"unsupported vsn {vsn}")
        apikey = query.get("apikey", [""])[0] or request.headers.get("apikey", "")
        if not tokens.is_publishable_key(apikey):
            try:
                tokens.verify(apikey, self._secret)
            except tokens.TokenError as exc:
                return _http_error(403, exc.reason)
        return None

    async def _handle(self, ws: ServerConnection) -> None:
        assert ws.request is not None
        query = parse_qs(urlsplit(ws.request.path).query)
        apikey = query.get("apikey", [""])[0] or ws.request.headers.get("apikey", "")
        client = Client(ws=ws, vsn=query.get("vsn", [VSN_1])[0], apikey=apikey, max_buffered=self._max_buffered)
        try:
            async for data in ws:
                try:
                    frame = decode(data, client.vsn)
                except ProtocolError as exc:
                    logger.info("dropped an undecodable frame: %s", exc)
                    continue
                await self._on_frame(client, frame)
        except ConnectionClosed:
            pass
        finally:
            client.stop()
            for channel in list(client.channels.values()):
                self._forget(channel)

    async def _on_frame(self, client: Client, frame: Frame) -> None:
        if frame.topic == "phoenix" and frame.event == "heartbeat":
            await client.send(reply(frame, "ok", {}))
            return
        if frame.event == "phx_join":
            await self._join(client, frame)
            return
        channel = client.channels.get(frame.topic)
        if channel is None:
            if frame.ref is not None:
                await client.send(reply(frame, "error", {"reason": "unmatched topic"}))
            return
        if frame.event == "phx_leave":
            self._forget(channel)
            await client.send(reply(frame, "ok", {}))
            await client.send(Frame(channel.topic, "phx_close", {}, channel.join_ref, channel.join_ref))
        elif frame.event == "access_token":
            await self._refresh_token(channel, frame.payload)
        elif frame.event == "broadcast":
            await self._client_broadcast(channel, frame)
        elif frame.event == "presence" and frame.ref is not None:
            await client.send(reply(frame, "ok", {}))

    # -- join, tokens --------------------------------------------------------------------

    async def _join(self, client: Client, frame: Frame) -> None:
        if not frame.topic.startswith("realtime:") or frame.topic == "realtime:":
            await client.send(reply(frame, "error", {"reason": "TopicNameRequired: You must provide a topic name"}))
            return
        sub_topic = frame.topic.removeprefix("realtime:")
        params = frame.payload if isinstance(frame.payload, dict) else {}
        config = params.get("config") or {}
        token = params.get("access_token") or params.get("user_token") or client.apikey
        try:
            claims = self._claims(token)
            bindings = [Binding.from_params(p) for p in config.get("postgres_changes") or []]
        except tokens.TokenError as exc:
            await client.send(reply(frame, "error", {"reason": exc.reason}))
            return
        except BindingError as exc:
            await client.send(reply(frame, "error", {"reason": f"InvalidPostgresChanges: {exc}"}))
            return
        private = bool(config.get("private"))
        if private and not await self._may_read(sub_topic, claims):
            await client.send(reply(frame, "error", {"reason": _unauthorized(sub_topic)}))
            return
        if (previous := client.channels.get(frame.topic)) is not None:
            self._forget(previous)
        broadcast = config.get("broadcast") or {}
        channel = Channel(
            client=client,
            topic=frame.topic,
            sub_topic=sub_topic,
            join_ref=frame.join_ref or frame.ref,
            private=private,
            self_broadcast=bool(broadcast.get("self")),
            ack_broadcast=bool(broadcast.get("ack")),
            token=token,
            claims=claims,
            bindings=bindings,
        )
        client.channels[frame.topic] = channel
        self._topics[channel.key].add(channel)
        if bindings:
            self._change_channels.add(channel)
        self._schedule_expiry(channel)
        await client.send(reply(frame, "ok", {"postgres_changes": [b.echo() for b in bindings]}))
        if bindings:
            await self._confirm_bindings(channel)

    def _claims(self, token: str) -> dict[str, Any]:
        if tokens.is_publishable_key(token):
            return {"role": "anon", "exp": 2**31 - 1}
        return tokens.verify(token, self._secret)

    async def _may_read(self, sub_topic: str, claims: dict[str, Any]) -> bool:
        assert self._pool is not None
        return (await authorize(self._pool, sub_topic, claims)).read

    async def _confirm_bindings(self, channel: Channel) -> None:
        unknown = [b for b in channel.bindings if not self._is_published(b)]
        if unknown:
            assert self._pool is not None
            async with self._pool.connection() as conn:
                await self._sync_publication(conn)
            unknown = [b for b in unknown if not self._is_published(b)]
        if unknown:
            b = unknown[0]
            message = (
                "Unable to subscribe to changes with given parameters. Please check Realtime is enabled for the given"
                f" connect parameters: [schema: {b.schema}, table: {b.table}, filters: {b.params.get('filter') or []}]"
            )
            status = "error"
        else:
            message, status = "Subscribed to PostgreSQL", "ok"
        payload = {"extension": "postgres_changes", "status": status, "message": message, "channel": channel.sub_topic}
        await channel.client.send(Frame(channel.topic, "system", payload, None, channel.join_ref))

    def _is_published(self, binding: Binding) -> bool:
        return any(binding.covers(schema, table, binding.event) for schema, table in self._published)

    def _schedule_expiry(self, channel: Channel) -> None:
        channel.cancel_expiry()
        if tokens.is_publishable_key(channel.token):
            return
        assert self._loop is not None
        token = channel.token
        delay = max(tokens.seconds_left(channel.claims), 0)
        channel.expiry = self._loop.call_later(delay, lambda: asyncio.ensure_future(self._expire(channel, token)))

    async def _expire(self, channel: Channel, token: str) -> None:
        if channel.token != token or channel.client.channels.get(channel.topic) is not channel:
            return
        left = tokens.seconds_left(channel.claims)
        await self._shutdown(channel, tokens.expired_message(-left))

    async def _refresh_token(self, channel: Channel, payload: Any) -> None:
        token = payload.get("access_token") if isinstance(payload, dict) else None
        if not token or token == channel.token:
            return
        try:
            claims = self._claims(token)
        except tokens.TokenError as exc:
            await self._shutdown(channel, exc.message)
            return
        if channel.private and not await self._may_read(channel.sub_topic, claims):
            await self._shutdown(
                channel, f"You do not have permissions to read from this Channel topic: {channel.sub_topic}"
            )
            return
        channel.token, channel.claims, channel.can_write = token, claims, None
        self._schedule_expiry(channel)

    async def _shutdown(self, channel: Channel, message: str) -> None:
        """Upstream's shutdown_response: a system error, then the channel closes."""
        self._forget(channel)
        payload = {"extension": "system", "status": "error", "message": message, "channel": channel.sub_topic}
        await channel.client.send(Frame(channel.topic, "system", payload, None, channel.join_ref))
        await channel.client.send(Frame(channel.topic, "phx_close", {}, channel.join_ref, channel.join_ref))

    def _forget(self, channel: Channel) -> None:
        channel.cancel_expiry()
        if channel.client.channels.get(channel.topic) is channel:
            del channel.client.channels[channel.topic]
        self._topics[channel.key].discard(channel)
        if not self._topics[channel.key]:
            del self._topics[channel.key]
        self._change_channels.discard(channel)

    # -- broadcast ---------------------------------------------------------------------

    async def _client_broadcast(self, channel: Channel, frame: Frame) -> None:
        payload = frame.payload if isinstance(frame.payload, dict) else {}
        if channel.private:
            if channel.can_write is None:
                assert self._pool is not None
                channel.can_write = (await authorize(self._pool, channel.sub_topic, channel.claims)).write
            if not channel.can_write:
                if frame.ref is not None and channel.ack_broadcast:
                    reason = (
                        f"Unauthorized: You do not have permissions to write to this Channel topic: {channel.sub_topic}"
                    )
                    await channel.client.send(reply(frame, "error", {"reason": reason}))
                return
        message = {"type": "broadcast", "event": payload.get("event"), "payload": payload.get("payload", {})}
        await self._fan_out(channel.key, message, sender=None if channel.self_broadcast else channel)
        if channel.ack_broadcast and frame.ref is not None:
            await channel.client.send(reply(frame, "ok", {}))

    async def _fan_out(self, key: tuple[str, bool], message: dict[str, Any], sender: Channel | None = None) -> None:
        encoded: dict[tuple[str, str], str | bytes] = {}
        for channel in list(self._topics.get(key, ())):
            if channel is sender:
                continue
            vsn = channel.client.vsn
            cache_key = (vsn, channel.topic)
            if cache_key not in encoded:
                encoded[cache_key] = encode_broadcast(channel.topic, message, vsn)
            await channel.client.send_raw(encoded[cache_key])

    async def _listen(self, conn: psycopg.AsyncConnection[Any]) -> None:
        assert self._changes is not None
        async for note in conn.notifies():
            try:
                if note.channel == BROADCAST_CHANNEL:
                    for broadcast in json.loads(note.payload):  # one statement's rows, in order
                        await self._deliver_db_broadcast(broadcast)
                elif note.channel == CHANGES_CHANNEL:
                    self._changes.put_nowait(Change.from_note(note.payload))
            except Exception:
                logger.exception("could not deliver a %s notification", note.channel)

    async def _deliver_db_broadcast(self, note: dict[str, Any]) -> None:
        if "topic" not in note:  # too large for NOTIFY: read the row back
            assert self._pool is not None
            async with self._pool.connection() as conn:
                cur = await conn.execute(
                    "select id::text, topic, event, coalesce(private, false), payload"
                    " from realtime.messages where id = %s",
                    (note["id"],),
                )
                row = await cur.fetchone()
            if row is None:
                return
            note = dict(zip(("id", "topic", "event", "private", "payload"), row, strict=True))
        message = {
            "type": "broadcast",
            "event": note["event"],
            "payload": note["payload"] if note["payload"] is not None else {},
            "meta": {"id": str(note["id"])},
        }
        await self._fan_out((note["topic"], bool(note["private"])), message)

    # -- postgres_changes --------------------------------------------------------------

    async def _process_changes(self) -> None:
        assert self._changes is not None
        while True:
            change = await self._changes.get()
            try:
                await self._deliver_change(change)
            except Exception:
                logger.exception("could not deliver a change of %s.%s", change.schema, change.table)

    async def _deliver_change(self, change: Change) -> None:
        assert self._pool is not None
        targets = [
            (channel, matching)
            for channel in list(self._change_channels)
            if (matching := [b for b in channel.bindings if b.covers(change.schema, change.table, change.type)])
        ]
        if not targets:
            return
        rows: dict[str, dict[str, Any] | None] = {}
        for channel, bindings in targets:
            role = str(channel.claims["role"])
            columns = await self._columns.of(self._pool, change.schema, change.table, role)
            data: dict[str, Any] = {
                "schema": change.schema,
                "table": change.table,
                "commit_timestamp": change.commit_timestamp,
                "type": change.type,
                "columns": columns,
                "errors": None,
            }
            if change.type == "DELETE":
                data["old_record"] = change.old_pk or {}
                ids = [b.id for b in bindings]
            else:
                key = json.dumps(channel.claims, sort_keys=True)
                if key not in rows:
                    rows[key] = await read_as(self._pool, change, channel.claims, columns)
                record = rows[key]
                if record is None:
                    continue  # not visible to this subscriber
                data["record"] = record
                if change.type == "UPDATE":
                    data["old_record"] = change.old_pk or {}
                ids = [b.id for b in bindings if b.filter is None or b.filter.matches(record)]
            if ids:
                await channel.client.send(Frame(channel.topic, "postgres_changes", {"ids": ids, "data": data}))


def _unauthorized(sub_topic: str) -> str:
    return f"Unauthorized: You do not have permissions to read from this Channel topic: {sub_topic}"


def _http_error(status: int, message: str) -> Response:
    body = json.dumps({"message": message}).encode()
    headers = Headers([("Content-Type", "application/json"), ("Content-Length", str(len(body)))])
    return Response(status, "Forbidden" if status == 403 else "Error", headers, body)


def _bound_port(server: Server) -> int:
    for sock in server.sockets:
        return int(sock.getsockname()[1])
    raise LocalStackError("the realtime server has no listening socket")
