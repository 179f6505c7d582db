"""A fake WhatsApp gateway: a real HTTP server on loopback speaking both providers' REST APIs.

It emulates the endpoints Ponte calls on WPPConnect Server (``/api/{session}/...``, bearer
token from ``generate-token``) and Evolution API v2 (``apikey`` header), with scriptable
failure modes: 504s, timeouts before or after the gateway accepted a send, sessions that are
not logged in and stay down until a reset, and a QR loop posted to the proxy's webhook.
Tests and ``ponte up`` demos use it; nothing here is used in production.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import itertools
import json
import re
import secrets
import threading
import time
from collections import defaultdict, deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx

from ponte.localstack import fake_cloud
from ponte.localstack.fake_cloud import FakeCloudNumber

FAULTS = ("504", "500", "timeout", "accept_then_timeout")
_ids = itertools.count(1)


@dataclass(frozen=True)
class Receipt:
    """One accepted send as the gateway received it: when (wall clock), to whom, what."""

    at: float
    to: str  # digits
    text: str


@dataclass
class FakeSession:
    name: str
    provider: str  # "evolution" | "wppconnect"
    keys: set[str]  # Evolution apikeys accepted for this instance
    status: str = "connected"  # connected | connecting | not_logged | closed | qr
    stay_down: bool = False  # reconnects leave it down; only a logout + start (a reset) gives a QR
    reconnect_fixes: bool = False  # a restart brings it back
    sent: list[dict[str, Any]] = field(default_factory=list)
    receipts: list[Receipt] = field(default_factory=list)  # accepted sends, with their receive times
    faults: dict[str, deque[str]] = field(default_factory=lambda: defaultdict(deque))
    calls: list[tuple[str, str]] = field(default_factory=list)  # (operation, key used / "primary" | "alternate")
    qr_count: int = 0
    webhook_url: str | None = None
    webhook_secret: str | None = None
    # received files the gateway can give back (getBase64FromMediaMessage / get-media-by-message)
    media: dict[str, tuple[bytes, str]] = field(default_factory=dict)

    def fail(self, operation: str, fault: str, times: int = 1) -> None:
        if fault not in FAULTS:
            raise ValueError(f"unknown fault {fault!r}")
        self.faults[operation].extend([fault] * times)

    def count(self, operation: str) -> int:
        return sum(1 for op, _ in self.calls if op == operation)

    def next_qr(self) -> dict[str, str]:
        self.qr_count += 1
        code = f"2@fakeqr{self.qr_count:04d}," + secrets.token_urlsafe(12)
        return {"code": code, "base64": "data:image/png;base64,iVBORw0KGgo=", "pairingCode": f"FAKE{self.qr_count:04d}"}


class FakeGateway:
    """``with FakeGateway() as gw:`` -- ``gw.url``, ``gw.evolution(name, key)``, ``gw.wppconnect(name)``."""

    def __init__(
        self,
        *,
        wpp_secret_key: str | None = None,
        stall_seconds: float = 1.5,
        acks: bool = False,
        ack_interval: float = 0.5,
    ) -> None:
        self.wpp_secret_key = wpp_secret_key or secrets.token_urlsafe(16)
        # after an accepted send, post the echo and the acks back (SERVER_ACK, DELIVERY_ACK, READ)
        # as a phone that receives and reads it would: ``ack_interval`` seconds between steps
        self.acks = acks
        # Evolution's ``send.message`` echo of every send (off: a benchmark of the send path alone)
        self.echoes = True
        self.ack_interval = ack_interval
        self.alternate_wpp_secret_key: str | None = None
        self.token_epoch = 0  # bumping it revokes every issued token (as a server restart with new salts)
        self.stall_seconds = stall_seconds
        self.sessions: dict[tuple[str, str], FakeSession] = {}
        self.cloud_numbers: dict[str, FakeCloudNumber] = {}  # Cloud API mode, by phone_number_id
        self.lock = threading.RLock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        self._server.daemon_threads = True
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def start(self) -> FakeGateway:
        self._thread = threading.Thread(target=self._server.serve_forever, name="fake-gateway", daemon=True)
        self._thread.start()
        return self

    def alive(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def stop(self) -> None:
        if self.alive():  # shutdown() waits for serve_forever, which a dead thread never answers
            self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> FakeGateway:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def evolution(self, name: str, *keys: str) -> FakeSession:
        with self.lock:
            return self.sessions.setdefault(("evolution", name), FakeSession(name, "evolution", set(keys)))

    def cloud(self, phone_number_id: str, *, access_token: str, app_secret: str, waba_id: str) -> FakeCloudNumber:
        """A business phone number of a fake Meta app: its Graph API is ``{url}/graph``."""
        with self.lock:
            return self.cloud_numbers.setdefault(
                phone_number_id, FakeCloudNumber(phone_number_id, access_token, app_secret, waba_id)
            )

    @property
    def graph_url(self) -> str:
        return f"{self.url}/graph"

    def wppconnect(self, name: str) -> FakeSession:
        with self.lock:
            return self.sessions.setdefault(("wppconnect", name), FakeSession(name, "wppconnect", set()))

    def wpp_token(self, session: str, secret_key: str) -> str:
        salted = f"{session}:{self.token_epoch}".encode()
        return hmac.new(secret_key.encode(), salted, hashlib.sha256).hexdigest()

    # --- webhooks towards the proxy --------------------------------------------------------------

    def post_webhook(self, session: FakeSession, payload: dict[str, Any]) -> int:
        if not session.webhook_url:
            return 0
        headers = {"x-ponte-webhook-secret": session.webhook_secret or ""}
        try:
            return httpx.post(session.webhook_url, json=payload, headers=headers, timeout=10).status_code
        except httpx.HTTPError:  # the proxy is gone (the stack stops): a real gateway drops it too
            return 0

    def post_later(self, session: FakeSession, payloads: list[dict[str, Any]], *, first_now: bool = True) -> None:
        """Post ``payloads`` in order from a thread, ``ack_interval`` apart (the first at once
        unless ``first_now`` is False: WhatsApp's server acknowledges a moment after the send)."""
        if not session.webhook_url or not payloads:
            return

        def run() -> None:
            for i, payload in enumerate(payloads):
                if i or not first_now:
                    time.sleep(self.ack_interval)
                self.post_webhook(session, payload)

        threading.Thread(target=run, name="fake-gateway-webhooks", daemon=True).start()

    def qr_loop(self, session: FakeSession, n: int) -> list[int]:
        """What a looping gateway does: ``n`` QR webhooks, each with a new code, as fast as it can."""
        statuses = []
        for _ in range(n):
            qr = session.next_qr()
            if session.provider == "evolution":
                payload = {"event": "qrcode.updated", "instance": session.name, "data": {"qrcode": {
                    "instance": session.name, "pairingCode": qr["pairingCode"], "code": qr["code"],
                    "base64": qr["base64"]}}}  # fmt: skip
            else:
                payload = {"event": "qrcode", "session": session.name, "qrcode": qr["base64"], "urlcode": qr["code"]}
            statuses.append(self.post_webhook(session, payload))
        return statuses


def _handler(gw: FakeGateway) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        # headers and body go out in two writes: without this, Nagle holds the body for the
        # client's delayed ACK (~40 ms a request on a kept-alive connection)
        disable_nagle_algorithm = True

        def log_message(self, format: str, *args: Any) -> None:  # quiet
            pass

        def do_GET(self) -> None:
            self._dispatch("GET")

        def do_POST(self) -> None:
            self._dispatch("POST")

        def do_DELETE(self) -> None:
            self._dispatch("DELETE")

        def _dispatch(self, method: str) -> None:
            length = int(self.headers.get("content-length") or 0)
            raw = self.rfile.read(length) if length else b""
            try:
                body = json.loads(raw) if raw else {}
            except ValueError:
                body = {}
            path = self.path.split("?", 1)[0]
            if path.startswith("/graph/"):
                status, payload = fake_cloud.handle(gw, self, method, path, raw)
            elif path.startswith("/api/"):
                status, payload = _wppconnect(gw, self, method, path, body)
            else:
                status, payload = _evolution(gw, self, method, path, body)
            if status == 0:  # connection dropped on purpose
                return
            content_type = "text/html" if isinstance(payload, bytes) else "application/json"
            if isinstance(payload, tuple):  # a file: (bytes, its content type)
                payload, content_type = payload
            data = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
            try:
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client gave up (its timeout): as with a real gateway

    return Handler


_GATEWAY_TIMEOUT = b"<html><body><h1>504 Gateway Time-out</h1></body></html>"


def _fault(gw: FakeGateway, session: FakeSession, operation: str) -> str | None:
    with gw.lock:
        queue = session.faults.get(operation)
        return queue.popleft() if queue else None


def _before(gw: FakeGateway, fault: str | None) -> tuple[int, Any] | None:
    """Faults that strike before the gateway acts."""
    if fault == "504":
        return 504, _GATEWAY_TIMEOUT
    if fault == "500":
        return 500, {"status": 500, "error": "Internal Server Error", "response": {"message": ["boom"]}}
    if fault == "timeout":
        time.sleep(gw.stall_seconds)
        return 504, _GATEWAY_TIMEOUT
    return None


def _after(gw: FakeGateway, fault: str | None) -> None:
    if fault == "accept_then_timeout":
        time.sleep(gw.stall_seconds)


# --- Evolution API v2 --------------------------------------------------------------------------

_EVO = re.compile(r"^/(?P<group>message|instance|chat)/(?P<op>[A-Za-z0-9]+)/(?P<instance>[^/]+)$")
_EVO_OPS = {
    ("POST", "message", "sendText"): "send",
    ("GET", "instance", "connectionState"): "status",
    ("GET", "instance", "connect"): "start",
    ("POST", "instance", "restart"): "restart",
    ("DELETE", "instance", "logout"): "logout",
    ("POST", "chat", "findMessages"): "recent",
    ("POST", "message", "sendMedia"): "send",
    ("POST", "message", "sendWhatsAppAudio"): "send",
    ("POST", "message", "sendLocation"): "send",
    ("POST", "message", "sendContact"): "send",
    ("POST", "chat", "getBase64FromMediaMessage"): "media",
}
_EVO_STATE = {"connected": "open", "connecting": "connecting", "qr": "connecting"}


def _evo_error(status: int, message: str) -> tuple[int, Any]:
    reason = {400: "Bad Request", 401: "Unauthorized", 404: "Not Found"}.get(status, "Error")
    return status, {"status": status, "error": reason, "response": {"message": [message]}}


def _evolution(gw: FakeGateway, req: BaseHTTPRequestHandler, method: str, path: str, body: Any) -> tuple[int, Any]:
    match = _EVO.match(path)
    op = _EVO_OPS.get((method, match["group"], match["op"])) if match else None
    if match is None or op is None:
        return _evo_error(404, f"Cannot {method} {path}")
    session = gw.sessions.get(("evolution", match["instance"]))
    if session is None:
        return _evo_error(404, f'The "{match["instance"]}" instance does not exist')
    key = req.headers.get("apikey") or ""
    if key not in session.keys:
        return _evo_error(401, "Unauthorized")
    with gw.lock:
        session.calls.append((op, key))
    fault = _fault(gw, session, op)
    early = _before(gw, fault)
    if early is not None:
        return early
    result = _evolution_op(session, op, body, key)
    _after(gw, fault)
    if op == "send" and result[0] < 300:
        _echo(gw, session, result[1])
    return result


def _evolution_op(session: FakeSession, op: str, body: Any, key: str) -> tuple[int, Any]:
    name = session.name
    if op == "send":
        if session.status != "connected":
            return _evo_error(400, "Error: Connection Closed")
        number = str(body.get("number") or "")
        content = _evo_content(body)
        if not number.isdigit() or content is None:
            return _evo_error(400, "number and text are required")
        message = {"key": {"remoteJid": f"{number}@s.whatsapp.net", "fromMe": True, "id": f"BAE5{next(_ids):012X}"},
                   "pushName": "", "status": "PENDING", "message": content,
                   "messageType": next(iter(content)), "messageTimestamp": int(time.time()),
                   "instanceId": "00000000-fake-instance", "source": "unknown"}  # fmt: skip
        session.sent.append({**message, "request": body})
        session.receipts.append(Receipt(at=time.time(), to=number, text=str(content.get("conversation") or "")))
        return 201, message
    if op == "media":
        requested = body.get("message") if isinstance(body, dict) else None
        wanted = (requested.get("key") or {}) if isinstance(requested, dict) else {}
        found = session.media.get(str(wanted.get("id")) if isinstance(wanted, dict) else "")
        if found is None:
            return _evo_error(400, "Message not found")
        data, mimetype = found
        return 201, {"mediaType": mimetype.split("/")[0], "fileName": None, "size": {"fileLength": len(data)},
                     "mimetype": mimetype, "base64": base64.b64encode(data).decode()}  # fmt: skip
    if op == "status":
        return 200, {"instance": {"instanceName": name, "state": _EVO_STATE.get(session.status, "close")}}
    if op == "start":
        if session.status == "connected":
            return 200, {"instance": {"instanceName": name, "state": "open"}}
        session.status = "qr"
        qr = session.next_qr()
        return 200, {"pairingCode": qr["pairingCode"], "code": qr["code"], "base64": qr["base64"], "count": 1}
    if op == "restart":
        if session.reconnect_fixes or (session.stay_down is False and session.status == "closed"):
            session.status = "connected"
        return 200, {"instance": {"instanceName": name, "state": _EVO_STATE.get(session.status, "close")}}
    if op == "logout":
        if session.status not in ("connected", "connecting"):
            return _evo_error(400, f'The "{name}" instance is not connected')
        session.status = "not_logged"
        return 200, {"status": "SUCCESS", "error": False, "response": {"message": "Instance logged out"}}
    jid = (((body.get("where") or {}).get("key") or {}).get("remoteJid")) if isinstance(body, dict) else None
    records = [m for m in reversed(session.sent) if m["key"]["remoteJid"] == jid]
    return 200, {"messages": {"total": len(records), "pages": 1, "currentPage": 1, "records": records}}


def _evo_content(body: Any) -> dict[str, Any] | None:
    """The Baileys message a send request becomes (text, media, audio, location, contact)."""
    if not isinstance(body, dict):
        return None
    if isinstance(body.get("text"), str):
        return {"conversation": body["text"]}
    if isinstance(body.get("media"), str) and body.get("mediatype") in ("image", "video", "document"):
        return {f"{body['mediatype']}Message": {"mimetype": body.get("mimetype"), "caption": body.get("caption"),
                                                "fileName": body.get("fileName")}}  # fmt: skip
    if isinstance(body.get("audio"), str):
        return {"audioMessage": {"ptt": True, "mimetype": "audio/ogg; codecs=opus"}}
    if isinstance(body.get("latitude"), int | float) and isinstance(body.get("longitude"), int | float):
        return {"locationMessage": {"degreesLatitude": body["latitude"], "degreesLongitude": body["longitude"],
                                    "name": body.get("name")}}  # fmt: skip
    if isinstance(body.get("contact"), list) and body["contact"]:
        return {"contactMessage": {"displayName": body["contact"][0].get("fullName")}}
    return None


def _echo(gw: FakeGateway, session: FakeSession, message: dict[str, Any]) -> None:
    """Evolution sends API-sent messages back as ``send.message`` (Baileys emitOwnEvents off), then
    -- with ``acks`` -- the ``messages.upsert`` fromMe echo at SERVER_ACK and the ``messages.update``
    acks, in the shapes of ``proxy/providers/evolution/fixtures``."""
    if not gw.echoes:
        return
    envelope = {"instance": session.name, "date_time": time.strftime("%Y-%m-%dT%H:%M:%S.000Z"),
                "server_url": gw.url, "apikey": None}  # fmt: skip
    message = {k: v for k, v in message.items() if k != "request"}
    payloads = [{"event": "send.message", "data": message, **envelope}]
    if gw.acks:
        key = message["key"]
        payloads.append({"event": "messages.upsert", "data": {**message, "status": "SERVER_ACK"}, **envelope})
        for status in ("DELIVERY_ACK", "READ"):
            update = {"keyId": key["id"], "remoteJid": key["remoteJid"], "fromMe": True, "participant": None,
                      "status": status, "instanceId": message["instanceId"],
                      "messageId": secrets.token_hex(12)}  # fmt: skip
            payloads.append({"event": "messages.update", "data": update, **envelope})
    gw.post_later(session, payloads)


def _wpp_acks(gw: FakeGateway, session: FakeSession, message: dict[str, Any]) -> None:
    """WPPConnect reports a sent message's progress as ``onack`` (1 SENT, 2 RECEIVED, 3 READ);
    ``onselfmessage`` is off by default on the server, so no echo of the message itself."""
    if not gw.acks:
        return
    message = {k: v for k, v in message.items() if k != "request"}
    phone = message["to"].split("@", 1)[0]
    message_id = message["id"].split("_")[2]
    ref = {"fromMe": True, "remote": message["to"], "id": message_id, "_serialized": message["id"]}
    gw.post_later(
        session,
        [{"event": "onack", "session": session.name, "id": ref, "ack": ack, "t": int(time.time()),
          "from": "5511940000000@c.us", "to": f"{phone}@c.us", "body": message["body"], "type": "chat"}
         for ack in (1, 2, 3)],
        first_now=False,
    )  # fmt: skip


# --- WPPConnect Server -------------------------------------------------------------------------

_WPP_TOKEN = re.compile(r"^/api/(?P<session>[^/]+)/(?P<key>[^/]+)/generate-token$")
_WPP = re.compile(r"^/api/(?P<session>[^/]+)/(?P<op>[a-z0-9-]+)(?:/(?P<arg>[^/]+))?$")
_WPP_OPS = {
    ("POST", "send-message"): "send",
    ("GET", "status-session"): "status",
    ("POST", "start-session"): "start",
    ("POST", "close-session"): "close",
    ("POST", "logout-session"): "logout",
    ("GET", "get-messages"): "recent",
    ("POST", "send-image"): "send",
    ("POST", "send-file-base64"): "send",
    ("POST", "send-voice-base64"): "send",
    ("POST", "send-location"): "send",
    ("POST", "contact-vcard"): "send",
    ("GET", "get-media-by-message"): "media",
}
_WPP_STATUS = {"connected": "CONNECTED", "connecting": "INITIALIZING", "not_logged": "notLogged",
               "closed": "CLOSED", "qr": "QRCODE"}  # fmt: skip


def _wppconnect(gw: FakeGateway, req: BaseHTTPRequestHandler, method: str, path: str, body: Any) -> tuple[int, Any]:
    token_match = _WPP_TOKEN.match(path)
    if token_match and method == "POST":
        name, key = token_match["session"], token_match["key"]
        session = gw.wppconnect(name)
        valid = {k for k in (gw.wpp_secret_key, gw.alternate_wpp_secret_key) if k}
        if key not in valid:
            return 400, {"response": False, "message": "The SECRET_KEY is incorrect"}
        with gw.lock:
            session.calls.append(("token", "primary" if key == gw.wpp_secret_key else "alternate"))
        token = gw.wpp_token(name, key)
        return 201, {"status": "success", "session": name, "token": token, "full": f"{name}:{token}"}
    match = _WPP.match(path)
    op = _WPP_OPS.get((method, match["op"])) if match else None
    if match is None or op is None:
        return 404, {"message": f"Cannot {method} {path}"}
    session = gw.wppconnect(match["session"])
    auth = (req.headers.get("authorization") or "").removeprefix("Bearer ").strip()
    label = None
    for label_name, key in (("primary", gw.wpp_secret_key), ("alternate", gw.alternate_wpp_secret_key)):
        if key and hmac.compare_digest(auth, gw.wpp_token(session.name, key)):
            label = label_name
    if label is None:
        return 401, {"error": "Check that the Session and Token are correct"}
    with gw.lock:
        session.calls.append((op, label))
    fault = _fault(gw, session, op)
    early = _before(gw, fault)
    if early is not None:
        return early
    result = _wppconnect_op(session, op, body, match["arg"])
    _after(gw, fault)
    if op == "send" and result[0] < 300:
        _wpp_acks(gw, session, result[1]["response"][0])
    return result


def _wpp_kind(body: Any) -> str | None:
    if not isinstance(body, dict):
        return None
    if isinstance(body.get("base64Ptt"), str):
        return "ptt"
    if isinstance(body.get("base64"), str):
        return "image" if str(body["base64"]).startswith("data:image/") else "document"
    if body.get("lat") is not None and body.get("lng") is not None:
        return "location"
    if body.get("contactsId"):
        return "vcard"
    return None


def _wpp_state(session: FakeSession) -> dict[str, Any]:
    state: dict[str, Any] = {"status": _WPP_STATUS[session.status], "qrcode": None, "version": "2.8.6-fake"}
    if session.status == "qr":
        qr = session.next_qr()
        state.update(qrcode=qr["base64"], urlcode=qr["code"])
    return state


def _wppconnect_op(session: FakeSession, op: str, body: Any, arg: str | None) -> tuple[int, Any]:
    if op == "send":
        if session.status != "connected":
            return 404, {"response": None, "status": "Disconnected", "message": "A sessão do WhatsApp não está ativa."}
        phone, text = str(body.get("phone") or ""), body.get("message")
        kind = "chat" if isinstance(text, str) else _wpp_kind(body)
        if not phone.isdigit() or kind is None:
            return 400, {"response": None, "status": "Connected", "message": f"O número {phone} não existe."}
        message_id = f"3EB0{next(_ids):016X}"
        message = {"id": f"true_{phone}@c.us_{message_id}", "to": f"{phone}@c.us", "body": text or "",
                   "fromMe": True, "t": int(time.time()), "ack": 0, "type": kind}  # fmt: skip
        session.sent.append({**message, "request": body})
        session.receipts.append(Receipt(at=time.time(), to=phone, text=text if isinstance(text, str) else ""))
        return 201, {"status": "success", "response": [message], "mapper": "return"}
    if op == "media":
        found = session.media.get(str(arg))
        if found is None:
            return 404, {"status": "error", "message": "Message not found"}
        data, mimetype = found
        return 200, {"base64": base64.b64encode(data).decode(), "mimetype": mimetype}
    if op == "status":
        return 200, _wpp_state(session)
    if op == "start":
        if session.status in ("not_logged", "closed") and not (session.stay_down or session.reconnect_fixes):
            session.status = "qr"
        elif session.reconnect_fixes:
            session.status = "connected"
        return 200, _wpp_state(session)
    if op == "close":
        if session.status == "connected":
            session.status = "closed"
        return 200, {"status": True, "message": "Session successfully closed"}
    if op == "logout":
        session.status = "not_logged"
        session.stay_down = False  # the session data is gone: the next start asks for a QR
        return 200, {"status": True, "message": "Session successfully closed"}
    records = [m for m in reversed(session.sent) if m["to"].split("@")[0] == arg]
    return 200, {"status": "success", "response": records}
