"""Media both ways on the local stack, on each provider, against the fake gateway: a received file
is fetched by the media function into moto's S3 and read back through a signed URL; a too-large file
ends ``too_large``; a hidden contact's files leave the bucket; a file uploaded through a signed form
is sent as media, and what a provider cannot send is a clear 422."""

from __future__ import annotations

import base64
import json
import struct
import time
import uuid
import zlib
from collections.abc import Callable
from typing import Any

import httpx
import psycopg
import pytest

from ponte.localstack import fake_cloud
from ponte.localstack.fake_gateway import FakeSession
from ponte.localstack.seed import seed_tenant
from ponte.localstack.sqs import MEDIA_BUCKET
from ponte.localstack.stack import LocalStack
from ponte.services.intake import SECRET_HEADER
from tests.e2e.stack_calls import call, sql
from tests.e2e.stack_calls import wait as wait_for

pytestmark = pytest.mark.e2e

WPP_INSTANCE = "00000000-0000-4000-8000-00000000e0a1"


def wait(check: Callable[[], Any]) -> Any:
    """Media jobs go through S3 and two queues: a longer wait than the other e2e tests."""
    return wait_for(check, timeout=20.0, interval=0.15)


def png(width: int = 2, height: int = 2, noise: int = 0) -> bytes:
    """A real PNG (its bytes say image/png), ``noise`` extra random-ish bytes to make it big."""
    raw = b"".join(b"\x00" + bytes([200, 30, 30]) * width for _ in range(height))

    def chunk(tag: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + tag + data + struct.pack(">I", zlib.crc32(tag + data))

    text = chunk(b"tEXt", b"c\x00" + (bytes(range(256)) * (noise // 256 + 1))[:noise]) if noise else b""
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)) + text
            + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))  # fmt: skip


PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def evolution(stack: LocalStack) -> FakeSession:
    assert stack.gateway is not None
    return stack.gateway.fake.sessions[("evolution", "demo")]


def evolution_image(stack: LocalStack, phone: str, data: bytes, mimetype: str = "image/png") -> str:
    """A contact's image through the demo's Evolution instance; the stored message's id."""
    message_id = "3EB0" + uuid.uuid4().hex[:16].upper()
    evolution(stack).media[message_id] = (data, mimetype)
    image = {"mimetype": mimetype, "caption": "o roteador quebrado", "fileLength": str(len(data)),
             "url": "https://mmg.whatsapp.net/x.enc"}  # fmt: skip
    payload = {"event": "messages.upsert", "instance": "demo", "data": {
        "key": {"remoteJid": f"{phone}@s.whatsapp.net", "fromMe": False, "id": message_id},
        "pushName": "Cliente Foto", "messageType": "imageMessage", "messageTimestamp": int(time.time()),
        "message": {"imageMessage": image}}}  # fmt: skip
    headers = {SECRET_HEADER: stack.secrets.demo_webhook_secret}
    assert httpx.post(stack.webhook_url(), json=payload, headers=headers, timeout=10).status_code == 200
    return stored_message(stack, message_id)


def stored_message(stack: LocalStack, provider_message_id: str) -> str:
    rows = wait(lambda: sql(stack, "select id::text from public.messages where provider_message_id = %s",
                            provider_message_id))  # fmt: skip
    assert rows, "the media message was not ingested"
    return str(rows[0]["id"])


def media_state(stack: LocalStack, message_id: str, state: str) -> dict[str, Any]:
    def check() -> dict[str, Any] | None:
        view = call(stack, "GET", f"/messages/{message_id}/media").json()
        return view if view.get("state") == state else None

    found = wait(check)
    assert found, str(call(stack, "GET", f"/messages/{message_id}/media").json())
    return found  # type: ignore[no-any-return]


def bucket_keys(stack: LocalStack, prefix: str) -> list[str]:
    return [o["Key"] for o in stack.s3.list_objects_v2(Bucket=MEDIA_BUCKET, Prefix=prefix).get("Contents", [])]


def wpp_instance(stack: LocalStack) -> FakeSession:
    assert stack.demo is not None and stack.gateway is not None
    with psycopg.connect(stack.dsn) as conn:
        seed_tenant(conn, tenant_id=stack.demo.tenant_id, name="Loja Demo", user_id=stack.demo.user_id,
                    email=stack.demo.user_email, instance_id=WPP_INSTANCE, provider="wppconnect",
                    gateway_instance="loja-midia", webhook_secret="unused-until-wired")  # fmt: skip
    assert wait(lambda: WPP_INSTANCE in stack.gateway.wired)  # type: ignore[union-attr]
    return stack.gateway.fake.wppconnect("loja-midia")


def test_received_media_on_each_provider_is_stored_and_served_by_a_signed_url(stack: LocalStack) -> None:
    assert stack.demo is not None
    image = png()
    # GIVEN an image through Evolution, a PDF through WPPConnect and a voice note through the Cloud API
    evo_message = evolution_image(stack, "5511987650301", image)
    wpp = wpp_instance(stack)
    serialized = "false_5511987650302@c.us_3EB0" + uuid.uuid4().hex[:16].upper()
    wpp.media[serialized] = (PDF, "application/pdf")
    onmessage = {"event": "onmessage", "session": "loja-midia", "id": serialized, "type": "document",
                 "body": base64.b64encode(PDF).decode(), "from": "5511987650302@c.us", "to": "5511940000002@c.us",
                 "fromMe": False, "t": int(time.time()), "isGroupMsg": False, "mimetype": "application/pdf",
                 "filename": "boleto.pdf", "caption": "segue o boleto", "notifyName": "Cliente PDF"}  # fmt: skip
    assert wpp.webhook_url is not None
    assert httpx.post(wpp.webhook_url, json=onmessage, timeout=10).status_code == 200
    wpp_message = stored_message(stack, serialized.rsplit("_", 1)[-1])
    number = stack.gateway.fake.cloud_numbers[stack.demo.cloud_phone_number_id]  # type: ignore[union-attr]
    ogg = b"OggS\x00\x02" + bytes(200)
    voice = fake_cloud.inbound_media(number, "553188880301", ogg, "audio/ogg; codecs=opus", kind="audio")
    voice["entry"][0]["changes"][0]["value"]["messages"][0]["audio"]["voice"] = True
    assert fake_cloud.post_signed(number, voice) == 200
    cloud_message = stored_message(stack, voice["entry"][0]["changes"][0]["value"]["messages"][0]["id"])
    # THEN each file is fetched into the bucket and served with the type its bytes have
    for message_id, data, content_type in (
        (evo_message, image, "image/png"),
        (wpp_message, PDF, "application/pdf"),
        (cloud_message, ogg, "audio/ogg"),
    ):
        view = media_state(stack, message_id, "stored")
        assert (view["content_type"], view["size_bytes"]) == (content_type, len(data))
        download = httpx.get(view["url"], timeout=10)
        assert download.status_code == 200 and download.content == data
        assert download.headers["content-type"] == content_type
    assert bucket_keys(stack, f"media/{stack.demo.tenant_id}/") == sorted(
        f"media/{stack.demo.tenant_id}/{m}" for m in (evo_message, wpp_message, cloud_message)
    )
    # AND the states were broadcast to the tenant
    states = sql(stack, "select payload->>'state' as state from realtime.messages where event = 'media_updated'"
                 " and payload->>'message_id' = %s", evo_message)  # fmt: skip
    assert [s["state"] for s in states][-1:] == ["stored"]
    # AND a signed URL is short-lived, and only for the tenant's members
    assert "X-Amz-Expires=300" in media_state(stack, evo_message, "stored")["url"]
    stranger = call(stack, "GET", f"/messages/{evo_message}/media", user="00000000-0000-4000-8000-0000000000b2")
    assert stranger.status_code == 404


def test_a_too_large_file_ends_too_large_and_nothing_is_kept(stack: LocalStack) -> None:
    assert stack.demo is not None
    big = png(noise=5 * 1024 * 1024 + 10)
    message_id = evolution_image(stack, "5511987650311", big)
    view = media_state(stack, message_id, "too_large")
    assert view["url"] is None and view["error_code"] == "too_large"
    assert bucket_keys(stack, f"media/{stack.demo.tenant_id}/{message_id}") == []


def test_a_hidden_contacts_files_leave_the_bucket(stack: LocalStack) -> None:
    assert stack.demo is not None
    kept = evolution_image(stack, "5511987650321", png())
    hidden = evolution_image(stack, "5511987650322", png(3, 3))
    for message_id in (kept, hidden):
        media_state(stack, message_id, "stored")
    prefix = f"media/{stack.demo.tenant_id}/"
    assert f"{prefix}{hidden}" in bucket_keys(stack, prefix)
    # WHEN the owner hides the contact
    response = call(stack, "POST", "/contacts/hide", json={"phone": "+55 11 98765-0322"})
    assert response.status_code == 200, response.text
    # THEN the bucket no longer holds their file; the other contact's stays
    assert bucket_keys(stack, prefix) == [f"{prefix}{kept}"]
    assert sql(stack, "select count(*) as n from private.media_trash") == [{"n": 0}]


def upload(stack: LocalStack, conversation: str, kind: str, data: bytes, filename: str | None = None) -> str:
    created = call(stack, "POST", "/media/uploads", json={"conversation_id": conversation, "kind": kind,
                                                          "size_bytes": len(data), "filename": filename})  # fmt: skip
    assert created.status_code == 201, created.text
    form = created.json()
    posted = httpx.post(form["url"], data=form["fields"], files={"file": ("f", data)}, timeout=10)
    assert posted.status_code in (200, 201, 204), posted.text
    return str(form["upload_id"])


def conversation_of(stack: LocalStack, message_id: str) -> str:
    return str(sql(stack, "select conversation_id::text as c from public.messages where id = %s", message_id)[0]["c"])


def send(stack: LocalStack, conversation: str, body: dict[str, Any]) -> httpx.Response:
    return call(stack, "POST", f"/conversations/{conversation}/messages",
                json={"idempotency_key": uuid.uuid4().hex, **body})  # fmt: skip


def test_media_out_on_each_provider_through_a_signed_upload(stack: LocalStack) -> None:
    assert stack.demo is not None and stack.gateway is not None
    image = png(4, 4)
    # Evolution: an image and a voice note; no buttons
    evo_conversation = conversation_of(stack, evolution_image(stack, "5511987650331", png()))
    upload_id = upload(stack, evo_conversation, "image", image)
    sent = send(stack, evo_conversation, {"type": "image", "media": {"upload_id": upload_id, "caption": "segue"}})
    assert sent.status_code == 201, sent.text
    request = evolution(stack).sent[-1]["request"]
    assert base64.b64decode(request["media"]) == image and request["mimetype"] == "image/png"
    stored = sql(stack, "select kind, body from public.messages where id = %s", sent.json()["message_id"])
    assert stored == [{"kind": "image", "body": "segue"}]
    buttons = {"type": "interactive", "interactive": {"body": "Escolha", "buttons": [{"id": "a", "title": "A"}]}}
    refused = send(stack, evo_conversation, buttons)
    assert (refused.status_code, refused.json()["code"]) == (422, "unsupported_by_provider")
    template = send(stack, evo_conversation, {"type": "template", "template": {"name": "pedido_enviado"}})
    assert (template.status_code, template.json()["code"]) == (422, "unsupported_by_provider")
    # the Cloud API: a document uploaded to Meta, then sent by its media id
    number = stack.gateway.fake.cloud_numbers[stack.demo.cloud_phone_number_id]
    assert fake_cloud.post_signed(number, fake_cloud.inbound_text(number, "553188880331", "me manda o boleto")) == 200
    cloud_conversation = wait(lambda: sql(stack, "select c.id::text as id from public.conversations c where"
                                                 " c.chat_key = '+5531988880331'"))[0]["id"]  # fmt: skip
    document = upload(stack, cloud_conversation, "document", PDF, filename="boleto.pdf")
    sent = send(
        stack, cloud_conversation, {"type": "document", "media": {"upload_id": document, "filename": "boleto.pdf"}}
    )
    assert sent.status_code == 201, sent.text
    request = number.sent[-1]
    assert request["type"] == "document" and number.media[request["document"]["id"]] == (PDF, "application/pdf")
    # hostile: another conversation's upload, a missing one, a kind the bytes are not
    assert send(stack, evo_conversation, {"type": "document", "media": {"upload_id": document}}).status_code == 422
    missing = send(stack, evo_conversation, {"type": "image", "media": {"upload_id": str(uuid.uuid4())}})
    assert (missing.status_code, missing.json()["code"]) == (422, "upload_not_found")
    liar = upload(stack, evo_conversation, "image", PDF)
    lied = send(stack, evo_conversation, {"type": "image", "media": {"upload_id": liar}})
    assert (lied.status_code, lied.json()["code"]) == (422, "upload_not_found")


def test_upload_requests_are_checked(stack: LocalStack) -> None:
    conversation = conversation_of(stack, evolution_image(stack, "5511987650341", png()))
    cases = [
        ({"conversation_id": conversation, "kind": "image", "size_bytes": 6 * 1024 * 1024}, 422),
        ({"conversation_id": conversation, "kind": "exe", "size_bytes": 10}, 400),
        ({"conversation_id": conversation, "kind": "image", "size_bytes": -1}, 400),
        ({"conversation_id": conversation, "kind": "image", "size_bytes": True}, 400),
        ({"conversation_id": conversation, "kind": "document", "size_bytes": 10, "filename": "../etc/passwd"}, 400),
        ({"conversation_id": conversation, "kind": "document", "size_bytes": 10, "filename": "x" * 241}, 400),
        # a NUL is cleaned at intake (as every text): the name is kept without it
        ({"conversation_id": conversation, "kind": "document", "size_bytes": 10, "filename": "a\u0000b"}, 201),
        ({"conversation_id": str(uuid.uuid4()), "kind": "image", "size_bytes": 10}, 404),
        ({"conversation_id": "not-a-uuid", "kind": "image", "size_bytes": 10}, 404),
    ]
    for body, status in cases:
        response = call(stack, "POST", "/media/uploads", json=body)
        assert response.status_code == status, (body, response.text)
    stranger = call(stack, "POST", "/media/uploads", user="00000000-0000-4000-8000-0000000000b2",
                    json={"conversation_id": conversation, "kind": "image", "size_bytes": 10})  # fmt: skip
    assert stranger.status_code == 404
    # a form may not carry more than it declared: S3 enforces the signed policy's length range (moto
    # does not, so the policy itself is checked here)
    created = call(stack, "POST", "/media/uploads", json={"conversation_id": conversation, "kind": "image",
                                                          "size_bytes": 10}).json()  # fmt: skip
    policy = json.loads(base64.b64decode(created["fields"]["policy"]))
    assert ["content-length-range", 1, 10] in policy["conditions"]
    assert created["fields"]["key"].startswith(f"uploads/{stack.demo.tenant_id}/")  # type: ignore[union-attr]
    assert call(stack, "GET", "/messages/not-a-uuid/media").status_code == 404


def test_wppconnect_sends_an_uploaded_voice_note_and_a_location(stack: LocalStack) -> None:
    wpp = wpp_instance(stack)
    # GIVEN a WPPConnect conversation
    assert wpp.webhook_url is not None
    hello = {"event": "onmessage", "session": "loja-midia", "id": "false_5511987650351@c.us_3EB0AA11BB22CC33",
             "type": "chat", "body": "oi", "from": "5511987650351@c.us", "to": "5511940000002@c.us",
             "fromMe": False, "t": int(time.time()), "isGroupMsg": False, "notifyName": "Cliente Voz"}  # fmt: skip
    assert httpx.post(wpp.webhook_url, json=hello, timeout=10).status_code == 200
    conversation = conversation_of(stack, stored_message(stack, "3EB0AA11BB22CC33"))
    # WHEN the agent sends a recorded voice note (uploaded first) and the shop's location
    ogg = b"OggS\x00\x02" + bytes(300)
    voice = upload(stack, conversation, "audio", ogg)
    sent = send(stack, conversation, {"type": "audio", "media": {"upload_id": voice, "voice": True}})
    assert sent.status_code == 201, sent.text
    request = wpp.sent[-1]["request"]
    assert request["base64Ptt"] == "data:audio/ogg;base64," + base64.b64encode(ogg).decode()
    place = {"type": "location", "location": {"latitude": -23.55, "longitude": -46.63, "name": "Loja Centro"}}
    assert send(stack, conversation, place).status_code == 201
    assert (wpp.sent[-1]["request"]["lat"], wpp.sent[-1]["request"]["title"]) == ("-23.55", "Loja Centro")
    # AND buttons are refused with a clear code, nothing sent
    before = len(wpp.sent)
    buttons = {"type": "interactive", "interactive": {"body": "Escolha", "buttons": [{"id": "a", "title": "A"}]}}
    refused = send(stack, conversation, buttons)
    assert (refused.status_code, refused.json()["code"]) == (422, "unsupported_by_provider")
    assert len(wpp.sent) == before
