"""The Cloud API provider on the local stack over loopback HTTP: Meta's verification handshake,
signed webhooks accepted and unsigned ones refused, a text and an image stored, the 12-digit
``wa_id`` being the same contact as the 13-digit number another provider gives, and the BSUID kept
as an alias of the instance."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest

from ponte.localstack.stack import LocalStack
from ponte.services.intake import SECRET_HEADER

pytestmark = pytest.mark.e2e

PROVIDERS = Path(__file__).resolve().parents[2] / "proxy" / "providers"
FIXTURE_NUMBER = "1122334455667"  # the phone_number_id in the fixtures


def cloud_body(stack: LocalStack, name: str) -> bytes:
    """A Cloud API fixture addressed to the demo's business phone number."""
    assert stack.demo is not None
    text = (PROVIDERS / "cloud" / "fixtures" / f"{name}.json").read_text()
    return text.replace(FIXTURE_NUMBER, stack.demo.cloud_phone_number_id).encode()


def sign(stack: LocalStack, body: bytes) -> dict[str, str]:
    digest = hmac.new(stack.secrets.demo_cloud_app_secret.encode(), body, hashlib.sha256).hexdigest()
    return {"Content-Type": "application/json", "X-Hub-Signature-256": f"sha256={digest}"}


def wait_for(stack: LocalStack, sql: str, params: tuple[Any, ...], n: int, timeout: float = 15) -> list[Any]:
    deadline = time.monotonic() + timeout
    while True:
        with psycopg.connect(stack.dsn) as conn:
            rows = conn.execute(sql, params).fetchall()
        if len(rows) >= n or time.monotonic() > deadline:
            return rows
        time.sleep(0.1)


def test_meta_verification_handshake(stack: LocalStack) -> None:
    # GIVEN the demo's Cloud API instance, as stack.json and local-secrets.json describe it
    state = json.loads((stack.state_dir / "stack.json").read_text())
    secrets = json.loads((stack.state_dir / "local-secrets.json").read_text())
    assert state["demo"]["cloud_instance_id"] == "00000000-0000-4000-8000-00000000d0c1"
    url = state["demo"]["cloud_webhook_url"]
    assert url == f"{stack.proxy_url}/webhooks/cloud/00000000-0000-4000-8000-00000000d0c1"
    assert secrets["demo_cloud_verify_token"] == stack.secrets.demo_cloud_verify_token
    assert secrets["demo_cloud_app_secret"] == stack.secrets.demo_cloud_app_secret
    good = {"hub.mode": "subscribe", "hub.verify_token": stack.secrets.demo_cloud_verify_token, "hub.challenge": "8472"}
    # WHEN Meta's webhook set-up calls with the instance's verify token THEN the challenge comes back as text
    response = httpx.get(url, params=good, timeout=10)
    assert (response.status_code, response.text) == (200, "8472")
    assert response.headers["content-type"].startswith("text/plain")
    # AND anything else is refused
    for params in (
        {**good, "hub.verify_token": "nope"},
        {**good, "hub.mode": "unsubscribe"},
        {"hub.challenge": "8472"},
    ):
        refused = httpx.get(url, params=params, timeout=10)
        assert refused.status_code == 403 and "8472" not in refused.text
    assert httpx.get(f"{stack.webhook_url()}", params=good, timeout=10).status_code == 403  # the Evolution instance
    hostile = httpx.get(url, params={**good, "hub.challenge": "<script>\x00"}, timeout=10)
    assert hostile.status_code == 400 and "<script>" not in hostile.text


def test_signed_text_and_image_are_stored_and_unsigned_bodies_refused(stack: LocalStack) -> None:
    assert stack.demo is not None
    url = stack.cloud_webhook_url()
    text = cloud_body(stack, "messages__text-br-no9th-digit__01")
    # GIVEN no signature, or the signature of another app THEN 401 and nothing stored
    assert httpx.post(url, content=text, headers={"Content-Type": "application/json"}, timeout=10).status_code == 401
    forged = {**sign(stack, text), "X-Hub-Signature-256": "sha256=" + "0" * 64}
    assert httpx.post(url, content=text, headers=forged, timeout=10).status_code == 401
    secret_header = {"Content-Type": "application/json", SECRET_HEADER: stack.secrets.demo_webhook_secret}
    assert httpx.post(url, content=text, headers=secret_header, timeout=10).status_code == 401
    # WHEN the signed text and image arrive
    for name in ("messages__text-br-no9th-digit__01", "messages__image__01"):
        body = cloud_body(stack, name)
        response = httpx.post(url, content=body, headers=sign(stack, body), timeout=10)
        assert response.status_code == 200, response.text
        assert response.json() == {"outcome": "accepted", "events": 1, "dropped": 0, "refused": 0}
    # THEN both are stored under the Cloud API instance, keyed by the 13-digit E.164 phone
    rows = wait_for(
        stack,
        "select kind, body, chat_key, media->>'provider_ref', media->>'mimetype' from public.messages"
        " where instance_id = %s order by occurred_at",
        (stack.demo.cloud_instance_id,),
        2,
    )
    assert [tuple(r) for r in rows] == [
        ("text", "Body Text", "+5531988880001", None, None),
        ("image", None, "+5531988880001", "65463453", "image/jpeg"),
    ]


def test_the_12_digit_wa_id_is_the_contact_other_providers_give_with_13_digits(stack: LocalStack) -> None:
    assert stack.demo is not None
    # GIVEN the person wrote through the Evolution instance with the 13-digit JID
    evolution = json.loads(
        (PROVIDERS / "evolution" / "fixtures" / "messages.upsert__text-inbound__01.json").read_text()
    )
    evolution["data"]["key"]["remoteJid"] = "5531988880001@s.whatsapp.net"
    headers = {SECRET_HEADER: stack.secrets.demo_webhook_secret}
    assert httpx.post(stack.webhook_url(), json=evolution, headers=headers, timeout=10).status_code == 200
    # WHEN the same person writes to the Cloud API number (wa_id without the 9th digit, with a BSUID)
    body = cloud_body(stack, "messages__button-from-user-id__01")
    assert httpx.post(stack.cloud_webhook_url(), content=body, headers=sign(stack, body), timeout=10).status_code == 200
    rows = wait_for(
        stack, "select distinct contact_id from public.messages where chat_key = %s", ("+5531988880001",), 1
    )
    time.sleep(0.5)
    rows = wait_for(stack, "select instance_id, contact_id from public.messages where chat_key = %s",
                    ("+5531988880001",), 2)  # fmt: skip
    # THEN one contact, one conversation per instance
    assert len({r[1] for r in rows}) == 1 and len({r[0] for r in rows}) == 2
    # AND the BSUID is an alias of that contact, scoped to the Cloud API number
    aliases = wait_for(
        stack,
        "select alias from public.contact_aliases where contact_id = %s and alias like 'bsuid:%%'",
        (rows[0][1],),
        1,
    )
    assert [a[0] for a in aliases] == [f"bsuid:{stack.demo.cloud_phone_number_id}:BR.13491208655302741918"]


def test_a_withheld_phone_is_one_contact_by_its_bsuid_until_meta_links_the_phone(stack: LocalStack) -> None:
    assert stack.demo is not None
    url = stack.cloud_webhook_url()
    body = cloud_body(stack, "messages__text-bsuid-only-phone-withheld-constructed__01")
    assert httpx.post(url, content=body, headers=sign(stack, body), timeout=10).status_code == 200
    alias = f"bsuid:{stack.demo.cloud_phone_number_id}:BR.1502576394655843"
    rows = wait_for(stack, "select identity_key, phone_e164 from public.contacts where identity_key = %s", (alias,), 1)
    assert [tuple(r) for r in rows] == [(alias, None)]
    # WHEN a later message carries the phone with the same BSUID THEN the contact learns its phone
    linked = json.loads(body)
    value = linked["entry"][0]["changes"][0]["value"]
    value["contacts"][0]["wa_id"] = "5521988770006"
    value["messages"][0] |= {"from": "5521988770006", "id": "wamid.linked-later"}
    raw = json.dumps(linked).encode()
    assert httpx.post(url, content=raw, headers=sign(stack, raw), timeout=10).status_code == 200
    rows = wait_for(stack, "select id from public.contacts where identity_key = %s", ("+5521988770006",), 1)
    assert len(rows) == 1
    gone = wait_for(stack, "select id from public.contacts where identity_key = %s", (alias,), 0)
    assert gone == []
    messages = wait_for(stack, "select contact_id from public.messages where chat_key = %s", ("+5521988770006",), 2)
    assert {m[0] for m in messages} == {rows[0][0]}


def test_hostile_signed_bodies_get_a_4xx_with_a_machine_code_never_a_5xx(stack: LocalStack) -> None:
    url = stack.cloud_webhook_url()
    change = {"field": "messages", "value": {"metadata": {"phone_number_id": "1"}, "messages": []}}
    bodies = {
        "deep": b'{"object":"whatsapp_business_account","entry":' + b"[" * 5000 + b"]" * 5000 + b"}",
        "nul": b'{"object":"whatsapp_business_account\x00","entry":[]}',
        "huge": json.dumps(
            {"object": "whatsapp_business_account", "entry": [{"id": "1", "changes": [change] * 6000}]}
        ).encode(),
        "not_meta": b'{"event": "messages.upsert", "data": {}}',
        "array": b"[1, 2, 3]",
    }
    for name, body in bodies.items():
        response = httpx.post(url, content=body, headers=sign(stack, body), timeout=30)
        assert 400 <= response.status_code < 500, (name, response.status_code, response.text)
        assert response.json()["code"], name
    # a lone surrogate in a field name is an unknown field: acknowledged, recorded, nothing stored
    odd = b'{"object":"whatsapp_business_account","entry":[{"changes":[{"field":"\\ud800"}]}]}'
    response = httpx.post(url, content=odd, headers=sign(stack, odd), timeout=30)
    assert response.json() == {"outcome": "ignored", "reason": "unknown_event"}
