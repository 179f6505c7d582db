"""Every provider fixture normalizes to its golden output (``python -m proxy.providers.goldens`` rewrites them)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from pydantic import BaseModel

from proxy.providers import normalize
from proxy.providers.goldens import dumps, expected_path, fixture_paths, render

pytestmark = pytest.mark.unit

FIXTURES = fixture_paths()
FIXTURE_IDS = [f"{provider}/{path.stem}" for provider, path in FIXTURES]


def load(provider: str, name: str) -> object:
    return json.loads((Path("proxy/providers") / provider / "fixtures" / f"{name}.json").read_text())


@pytest.mark.parametrize(("provider", "fixture"), FIXTURES, ids=FIXTURE_IDS)
def test_fixture_matches_its_golden_output(provider: str, fixture: Path) -> None:
    expected = expected_path(fixture)
    assert expected.exists(), f"no golden for {fixture.name}: run python -m proxy.providers.goldens"
    assert dumps(render(provider, fixture)) == expected.read_text()


@pytest.mark.parametrize(("provider", "fixture"), FIXTURES, ids=FIXTURE_IDS)
def test_canonical_events_never_carry_media_bytes(provider: str, fixture: Path) -> None:
    # GIVEN payloads whose body / base64 / jpegThumbnail hold file bytes
    result = normalize(provider, json.loads(fixture.read_text()), instance="i")
    dumped = json.dumps([e.model_dump(mode="json") for e in result.events])
    # THEN no JPEG / PNG / OGG base64 survives into the canonical events
    for marker in ("/9j/", "iVBORw0KGgo", "T2dnUw"):
        assert marker not in dumped


@pytest.mark.parametrize(("provider", "fixture"), FIXTURES, ids=FIXTURE_IDS)
def test_events_built_without_validation_equal_validated_ones(provider: str, fixture: Path) -> None:
    # the hot path builds message events with ``trusted``; full validation must agree with it
    result = normalize(provider, json.loads(fixture.read_text()), instance="i")
    assert_exactly_the_model_fields(result)
    for event in result.events:
        assert type(event).model_validate(event.model_dump()) == event
        assert type(event).model_validate_json(event.model_dump_json()) == event


def assert_exactly_the_model_fields(value: object) -> None:
    """Equality compares fields only: a stray or missing key in a built model's ``__dict__`` would pass it."""
    if isinstance(value, BaseModel):
        fields = set(type(value).model_fields)
        assert set(vars(value)) == fields, type(value).__name__
        assert value.model_fields_set <= fields
        for item in vars(value).values():
            assert_exactly_the_model_fields(item)
    elif isinstance(value, tuple):
        for item in value:
            assert_exactly_the_model_fields(item)


def test_every_fixture_has_a_golden_and_no_golden_is_orphaned() -> None:
    fixtures = {path.name for _, path in FIXTURES}
    goldens = {p.name for p in Path("proxy/providers").glob("*/expected/*.json")}
    assert fixtures == goldens


def test_send_message_and_its_fromme_echo_are_one_outbound_message() -> None:
    # GIVEN the API-sent message (13-digit JID) and its messages.upsert echo (legacy 12-digit JID)
    sent = normalize("evolution", load("evolution", "send.message__text-pending-constructed__01"), instance="i")
    echo = normalize(
        "evolution", load("evolution", "messages.upsert__fromMe-echo-of-send-message-constructed__01"), instance="i"
    )
    # THEN both have the same dedupe key, outbound
    (a,), (b,) = sent.events, echo.events
    assert a.type == b.type == "message"
    assert a.dedupe_key("t") == b.dedupe_key("t")
    assert a.dedupe_key("t")[-1] == "out"


def test_wppconnect_media_caption_is_kept_and_the_base64_body_is_not() -> None:
    payload = load("wppconnect", "onmessage__image-base64-in-body-constructed__01")
    (event,) = normalize("wppconnect", payload, instance="i").events
    assert event.type == "message"
    assert event.text == "foto do produto"
    assert event.media is not None and event.media.size_bytes == 48211


def test_times_come_from_the_message_never_from_date_time() -> None:
    # date_time is server-local with a fake Z (17:51Z); messageTimestamp 1746132673 is 20:51:13Z
    payload = load("evolution", "messages.upsert__text-inbound__01")
    assert isinstance(payload, dict) and payload["date_time"].startswith("2025-05-01T17:51")
    (event,) = normalize("evolution", payload, instance="i").events
    assert event.type == "message"
    assert event.occurred_at.isoformat() == "2025-05-01T20:51:13+00:00"


@pytest.mark.parametrize(
    ("provider", "name", "key", "lid"),
    [
        ("evolution", "messages.upsert__lid-senderPn-v2.3.0-constructed__01", "+5511987650106", "104857600000001@lid"),
        (
            "evolution",
            "messages.upsert__lid-remoteJidAlt-v2.3.3-constructed__01",
            "+5531987650107",
            "104857600000002@lid",
        ),
        (
            "evolution",
            "messages.upsert__pn-with-lid-alt-fromMe-constructed__01",
            "+5511987650108",
            "104857600000004@lid",
        ),
        ("evolution", "messages.upsert__lid-no-phone-constructed__01", "104857600000003@lid", "104857600000003@lid"),
        ("wppconnect", "onmessage__lid-sender-phoneNumber-constructed__01", "+5531987650204", "104857600000006@lid"),
    ],
)
def test_lid_is_linked_to_the_phone_whenever_the_payload_carries_one(
    provider: str, name: str, key: str, lid: str
) -> None:
    (event,) = normalize(provider, load(provider, name), instance="i").events
    assert event.type == "message"
    assert (event.chat.key, event.chat.lid) == (key, lid)
    assert lid in event.chat.aliases


def test_unexpected_bug_in_a_normalizer_is_a_rejection_not_an_exception() -> None:
    class Weird(dict):  # type: ignore[type-arg]
        def get(self, *_: object) -> object:
            raise RuntimeError("boom")

    result = normalize("evolution", Weird(), instance="i")
    assert (result.outcome.value, result.reason) == ("rejected", "normalizer_error")
