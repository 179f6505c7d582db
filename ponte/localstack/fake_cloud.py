"""The fake gateway's Cloud API mode: Meta's Graph API routes under ``/graph`` and signed webhooks.

- ``POST /graph/{phone_number_id}/messages`` (text, template, media by id, location, contacts,
  interactive) answers ``{messaging_product, contacts: [{input, wa_id}], messages: [{id}]}`` and,
  with ``acks``, posts the ``sent`` / ``delivered`` / ``read`` statuses back to the number's webhook,
  each signed ``X-Hub-Signature-256`` with the app's secret (as Meta does, statuses a moment apart);
- ``POST /graph/{phone_number_id}/media`` (multipart) stores a file and gives its media id;
  ``GET /graph/{media_id}`` gives a short-lived URL, ``GET /graph/download/{media_id}`` the bytes;
- ``GET /graph/{waba_id}/message_templates`` lists the account's templates;
- ``GET /graph/{phone_number_id}`` is the number's status.

Every route wants ``Authorization: Bearer <the number's access token>``; errors are Graph errors
(``{"error": {"code", "message", ...}}``) with Meta's codes. ``inbound_*`` post what a user would
send (signed), for tests and the demo. Nothing here is used in production.
"""

from __future__ import annotations

import hashlib
import hmac
import itertools
import json
import re
import secrets
import threading
import time
from dataclasses import dataclass, field
from email.parser import BytesParser
from email.policy import HTTP
from typing import TYPE_CHECKING, Any

import httpx

from ponte.services.webhook_signatures import body_signature

if TYPE_CHECKING:
    from http.server import BaseHTTPRequestHandler

    from ponte.localstack.fake_gateway import FakeGateway

_ids = itertools.count(1)
TEMPLATES: list[dict[str, Any]] = [
    {"name": "pedido_enviado", "language": "pt_BR", "status": "APPROVED", "category": "UTILITY", "id": "1001",
     "components": [{"type": "BODY", "text": "Olá {{1}}, seu pedido {{2}} saiu para entrega."}]},
    {"name": "retomar_atendimento", "language": "pt_BR", "status": "APPROVED", "category": "UTILITY", "id": "1002",
     "components": [{"type": "BODY", "text": "Olá! Podemos continuar o seu atendimento?"},
                    {"type": "BUTTONS", "buttons": [{"type": "QUICK_REPLY", "text": "Sim"}]}]},
    {"name": "promocao_semana", "language": "pt_BR", "status": "PAUSED", "category": "MARKETING", "id": "1003",
     "components": [{"type": "BODY", "text": "Ofertas da semana!"}]},
]  # fmt: skip


@dataclass
class FakeCloudNumber:
    phone_number_id: str
    access_token: str
    app_secret: str
    waba_id: str
    display_phone_number: str = "551140000001"
    webhook_url: str | None = None
    sent: list[dict[str, Any]] = field(default_factory=list)
    media: dict[str, tuple[bytes, str]] = field(default_factory=dict)  # media id -> (bytes, content type)
    calls: list[str] = field(default_factory=list)
    fail_next: list[int] = field(default_factory=list)  # Meta error codes the next sends answer

    def sign(self, body: bytes) -> str:
        return body_signature(self.app_secret, body)

    def envelope(self, value: dict[str, Any]) -> dict[str, Any]:
        metadata = {"display_phone_number": self.display_phone_number, "phone_number_id": self.phone_number_id}
        change = {"value": {"messaging_product": "whatsapp", "metadata": metadata, **value}, "field": "messages"}
        return {"object": "whatsapp_business_account", "entry": [{"id": self.waba_id, "changes": [change]}]}


def graph_error(status: int, code: int, message: str) -> tuple[int, Any]:
    return status, {"error": {"message": message, "type": "OAuthException", "code": code,
                              "fbtrace_id": secrets.token_urlsafe(8)}}  # fmt: skip


def post_signed(number: FakeCloudNumber, payload: dict[str, Any]) -> int:
    if not number.webhook_url:
        return 0
    body = json.dumps(payload).encode()
    headers = {"Content-Type": "application/json", "X-Hub-Signature-256": number.sign(body)}
    try:
        return httpx.post(number.webhook_url, content=body, headers=headers, timeout=10).status_code
    except httpx.HTTPError:  # the proxy is gone (the stack stops)
        return 0


def inbound_text(number: FakeCloudNumber, wa_id: str, text: str, *, name: str = "Cliente Teste") -> dict[str, Any]:
    """A user's text to the number, as Meta posts it."""
    message = {"from": wa_id, "id": f"wamid.FAKEIN{next(_ids):012X}", "timestamp": str(int(time.time())),
               "type": "text", "text": {"body": text}}  # fmt: skip
    return number.envelope({"contacts": [{"profile": {"name": name}, "wa_id": wa_id}], "messages": [message]})


def inbound_media(
    number: FakeCloudNumber,
    wa_id: str,
    data: bytes,
    content_type: str,
    *,
    kind: str = "image",
    caption: str | None = None,
) -> dict[str, Any]:
    """A user's media message; its file is kept so the media id resolves and downloads."""
    media_id = str(9_000_000_000 + next(_ids))
    number.media[media_id] = (data, content_type)
    body: dict[str, Any] = {"mime_type": content_type, "sha256": hashlib.sha256(data).hexdigest(), "id": media_id}
    if caption:
        body["caption"] = caption
    message = {"from": wa_id, "id": f"wamid.FAKEIN{next(_ids):012X}", "timestamp": str(int(time.time())),
               "type": kind, kind: body}  # fmt: skip
    contacts = [{"profile": {"name": "Cliente Teste"}, "wa_id": wa_id}]
    return number.envelope({"contacts": contacts, "messages": [message]})


_MESSAGES = re.compile(r"^/graph/(?:v[0-9.]+/)?(?P<number>[0-9]+)/messages$")
_UPLOAD = re.compile(r"^/graph/(?:v[0-9.]+/)?(?P<number>[0-9]+)/media$")
_TEMPLATES = re.compile(r"^/graph/(?:v[0-9.]+/)?(?P<waba>[0-9]+)/message_templates$")
_DOWNLOAD = re.compile(r"^/graph/download/(?P<media>[0-9]+)$")
_NODE = re.compile(r"^/graph/(?:v[0-9.]+/)?(?P<node>[0-9]+)$")


def handle(gw: FakeGateway, req: BaseHTTPRequestHandler, method: str, path: str, raw: bytes) -> tuple[int, Any]:
    token = (req.headers.get("authorization") or "").removeprefix("Bearer ").strip()
    number = next((n for n in gw.cloud_numbers.values() if token and hmac.compare_digest(token, n.access_token)), None)
    if number is None:
        return graph_error(401, 190, "Invalid OAuth access token - Cannot parse access token")
    if method == "POST" and (match := _MESSAGES.match(path)):
        if match["number"] != number.phone_number_id:
            return graph_error(403, 200, "Permission error")
        return _send(gw, number, raw)
    if method == "POST" and (match := _UPLOAD.match(path)):
        return _upload(number, req, raw)
    if method == "GET" and (match := _TEMPLATES.match(path)):
        if match["waba"] != number.waba_id:
            return graph_error(403, 200, "Permission error")
        return 200, {"data": TEMPLATES, "paging": {"cursors": {"before": "MAZDZD", "after": "MjQZD"}}}
    if method == "GET" and (match := _DOWNLOAD.match(path)):
        found = number.media.get(match["media"])
        return (200, found) if found else graph_error(404, 100, "Unsupported get request")
    if method == "GET" and (match := _NODE.match(path)):
        node = match["node"]
        if node == number.phone_number_id:
            return 200, {"id": node, "status": "CONNECTED", "quality_rating": "GREEN"}
        if node in number.media:
            data, content_type = number.media[node]
            return 200, {"messaging_product": "whatsapp", "url": f"{gw.url}/graph/download/{node}",
                         "mime_type": content_type, "sha256": hashlib.sha256(data).hexdigest(),
                         "file_size": len(data), "id": node}  # fmt: skip
        return graph_error(404, 100, "Unsupported get request. Object does not exist")
    return graph_error(404, 100, f"Unknown path components: {path[:80]}")


def _send(gw: FakeGateway, number: FakeCloudNumber, raw: bytes) -> tuple[int, Any]:
    try:
        body = json.loads(raw) if raw else {}
    except ValueError:
        return graph_error(400, 100, "Invalid parameter")
    with gw.lock:
        number.calls.append("send")
        failure = number.fail_next.pop(0) if number.fail_next else None
    if failure is not None:
        return graph_error(400, failure, f"(#{failure}) fake failure")
    to = str(body.get("to") or body.get("recipient") or "")
    kind = body.get("type")
    if not to or kind not in ("text", "template", "image", "document", "audio", "video", "location", "contacts",
                              "interactive"):  # fmt: skip
        return graph_error(400, 100, "Invalid parameter")
    if kind == "template":
        spec = body.get("template") or {}
        approved = {(t["name"], t["language"]) for t in TEMPLATES if t["status"] == "APPROVED"}
        if (spec.get("name"), (spec.get("language") or {}).get("code")) not in approved:
            return graph_error(404, 132001, "Template name does not exist in the translation")
    if kind in ("image", "document", "audio", "video") and str((body.get(kind) or {}).get("id")) not in number.media:
        return graph_error(400, 131053, "Media upload error")
    message_id = f"wamid.FAKEOUT{next(_ids):012X}"
    with gw.lock:
        number.sent.append({"id": message_id, **body})
    wa_id = to if to.isdigit() else None
    answer = {"messaging_product": "whatsapp", "contacts": [{"input": to, "wa_id": wa_id or to}],
              "messages": [{"id": message_id}]}  # fmt: skip
    if gw.acks:
        _statuses_later(gw, number, message_id, to)
    return 200, answer


def _statuses_later(gw: FakeGateway, number: FakeCloudNumber, message_id: str, to: str) -> None:
    def run() -> None:
        for status in ("sent", "delivered", "read"):
            time.sleep(gw.ack_interval)
            item = {"id": message_id, "status": status, "timestamp": str(int(time.time())), "recipient_id": to}
            post_signed(number, number.envelope({"statuses": [item]}))

    threading.Thread(target=run, name="fake-cloud-statuses", daemon=True).start()


def _upload(number: FakeCloudNumber, req: BaseHTTPRequestHandler, raw: bytes) -> tuple[int, Any]:
    content_type = req.headers.get("content-type") or ""
    message = BytesParser(policy=HTTP).parsebytes(f"Content-Type: {content_type}\r\n\r\n".encode() + raw)
    for part in message.iter_parts() if message.is_multipart() else []:
        if part.get_param("name", header="content-disposition") == "file":
            payload = part.get_payload(decode=True)
            data = payload if isinstance(payload, bytes) else b""
            media_id = str(8_000_000_000 + next(_ids))
            number.media[media_id] = (data, part.get_content_type())
            return 200, {"id": media_id}
    return graph_error(400, 100, "Param file must be a file with one of the following types")
