"""Hostile bodies from an authenticated gateway: every one ends 2xx/4xx with a diagnostics row,
what is accepted can be enqueued and stored, and nothing raised reaches Chalice's 500 page."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ponte.domain.envelope import IngestEnvelope
from ponte.ports.diagnostics import DiagnosticsLog
from ponte.services.exceptions import ServiceError
from ponte.services.json_body import clean_escapes, parse_json_body
from tests.fakes.ports import FakePrivacy
from tests.unit.test_intake_service import TEXT, make, request

pytestmark = pytest.mark.unit


def text_body(
    text: str = "oi", push_name: str = "Cliente", message_id: str = "3EB0C0FFEE", event: str = "messages.upsert"
) -> bytes:
    payload = json.loads(TEXT)
    payload["event"] = event
    payload["data"]["message"] = {"conversation": text}
    payload["data"]["pushName"] = push_name
    payload["data"]["key"]["id"] = message_id
    return json.dumps(payload).encode()  # ensure_ascii: NUL and surrogates travel as \u escapes


def stored_safely(envelope: IngestEnvelope) -> None:
    """What the queue and PostgreSQL need: UTF-8 encodable JSON without NUL anywhere."""
    encoded = envelope.model_dump_json().encode("utf-8")
    assert b"\\u0000" not in encoded
    assert IngestEnvelope.model_validate_json(encoded) == envelope


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        (b"[" * 100_000 + b"]" * 100_000, 422, "too_deep"),
        (b'{"a":' * 50_000 + b"1" + b"}" * 50_000, 422, "too_deep"),
        (b'{"event": "messages.upsert", "data": ' + b"1" * 5000 + b"}", 422, "bad_number"),
        (b'{"event": "x\xff"}', 400, "invalid_json"),
        (b'{"event": "a\x00b"}', 400, "invalid_json"),
        (b"\xff\xfe{}", 400, "invalid_json"),
        (b"", 400, "invalid_json"),
    ],
)
def test_unparseable_bodies_are_4xx_and_recorded(body: bytes, status: int, code: str) -> None:
    service, queue, diagnostics = make()
    response = service.handle(request(body))
    assert (response.status_code, response.body["code"]) == (status, code)
    assert queue.published == []
    assert [e.error_code for e in diagnostics.entries] == [code]


def test_a_byte_order_mark_is_tolerated() -> None:
    service, _, _ = make()
    assert service.handle(request(b"\xef\xbb\xbf" + TEXT)).body["outcome"] == "accepted"


@pytest.mark.parametrize("field", ["text", "push_name", "message_id"])
@pytest.mark.parametrize("bad", ["\x00", "\ud800", "\udc00", "a\ud83d", "\x00\ud800\udfff"])
def test_nul_and_lone_surrogates_are_cleaned_and_the_message_kept(field: str, bad: str) -> None:
    service, queue, _ = make()
    response = service.handle(request(text_body(**{field: f"x{bad}y"})))
    assert response.status_code == 200 and response.body["outcome"] == "accepted"
    (envelope,) = queue.published
    stored_safely(envelope)
    values = {"text": envelope.event.text, "push_name": envelope.event.push_name,
              "message_id": envelope.event.provider_message_id}  # fmt: skip
    assert values[field].startswith("x") and values[field].endswith("y") and "\ufffd" in values[field]


def test_a_cleaned_message_id_is_stable_across_redeliveries() -> None:
    service, queue, _ = make()
    for _ in range(2):
        service.handle(request(text_body(message_id="id\u0000")))
    assert len({e.event.provider_message_id for e in queue.published}) == 1


@pytest.mark.parametrize("event", ["messages\u0000upsert", "\ud800", "x" * 10_000])
def test_hostile_event_names_are_ignored_and_recorded(event: str) -> None:
    service, _, diagnostics = make()
    response = service.handle(request(text_body(event=event)))
    assert response.status_code in (200, 422)
    assert len(diagnostics.entries) == 1


class BrokenDiagnostics(DiagnosticsLog):
    def record(self, entry: Any) -> None:
        raise RuntimeError("diagnostics store down")


def test_a_diagnostics_failure_never_changes_an_accepted_answer() -> None:
    service, queue, _ = make()
    service._diagnostics = BrokenDiagnostics()
    response = service.handle(request())
    assert response.body["outcome"] == "accepted" and len(queue.published) == 1


def test_an_unexpected_failure_is_a_recorded_503_not_a_crash() -> None:
    class ExplodingPrivacy(FakePrivacy):
        def policy(self, tenant_id: str) -> Any:
            raise ConnectionError("database gone")

    service, _, diagnostics = make(privacy=ExplodingPrivacy())
    response = service.handle(request())
    assert (response.status_code, response.body["code"]) == (503, "unavailable")
    assert diagnostics.entries[0].error_code == "unavailable"


def evolution_batch(n: int) -> bytes:
    payload = json.loads(TEXT)
    items = [
        {
            "key": {"id": f"3EB0{i:08d}", "remoteJid": f"55119{i:08d}@s.whatsapp.net", "fromMe": False},
            "message": {"conversation": "oi"},
            "messageTimestamp": 1764000000,
        }
        for i in range(n)
    ]
    payload["event"], payload["data"] = "messages.upsert", items
    return json.dumps(payload).encode()


def test_a_3000_message_body_needs_one_hidden_list_lookup() -> None:
    privacy = FakePrivacy()
    service, _, _ = make(privacy=privacy)
    response = service.handle(request(evolution_batch(3000)))
    assert response.body == {"outcome": "accepted", "events": 3000, "dropped": 0}
    assert privacy.lookups == 1


def test_a_body_over_the_event_cap_is_413_and_kept_whole() -> None:
    from tests.fakes.ports import FakeQuarantine

    service, queue, _ = make()
    service._quarantine_store = store = FakeQuarantine()
    service._max_events = 100
    response = service.handle(request(evolution_batch(101)))
    assert (response.status_code, response.body["code"]) == (413, "too_many_events")
    assert queue.published == []
    (entry,) = store.entries
    assert entry.reason_code == "too_many_events" and not entry.truncated


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(st.text(alphabet=st.characters(codec=None, min_codepoint=0, max_codepoint=0x10FFFF), max_size=40))
def test_any_string_in_a_text_message_is_accepted_and_storable(value: str) -> None:
    service, queue, _ = make()
    response = service.handle(request(text_body(text=value or "x", push_name=value)))
    assert response.status_code in (200, 422), response.body
    for envelope in queue.published:
        stored_safely(envelope)


@given(st.binary(max_size=200))
def test_clean_escapes_never_breaks_valid_json(raw: bytes) -> None:
    try:
        before = json.loads(raw)
    except ValueError:
        return
    try:
        after = parse_json_body(raw)
    except ServiceError:
        return  # orjson is stricter (e.g. about big numbers): refused, never raised past us
    assert json.dumps(before, ensure_ascii=True).count('"') == json.dumps(after, ensure_ascii=True).count('"')
    assert clean_escapes(raw).count(b'"') == raw.count(b'"')


@pytest.mark.parametrize("kind", [[], {}, [0], False, None, 1.5])
def test_a_protocol_message_of_an_odd_type_is_not_a_message_and_not_a_crash(kind: object) -> None:
    payload = json.loads(text_body())
    payload["data"]["message"] = {"protocolMessage": {"type": kind, "key": {"id": "X"}}}
    service, queue, diagnostics = make()
    response = service.handle(request(json.dumps(payload).encode()))
    assert response.status_code < 500 and response.body.get("code") != "normalizer_error", response.body
    assert all(getattr(e.event, "kind", None) != "revoked" for e in queue.published)
    assert len(diagnostics.entries) == 1
