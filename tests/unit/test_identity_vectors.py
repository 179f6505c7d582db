"""The 32 shared phone/JID vectors (../shared/reference/phones/test_vectors.jsonl), copied into the tests."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ponte.domain.events import ChatKind
from ponte.domain.identity import canonical_phone, identity_of, jid_candidates

pytestmark = pytest.mark.unit

VECTORS = [
    json.loads(line)
    for line in (Path(__file__).parent / "data" / "phone_vectors.jsonl").read_text().splitlines()
    if line.strip()
]


def test_all_32_vectors_are_present() -> None:
    assert len(VECTORS) == 32


@pytest.mark.parametrize("vector", VECTORS, ids=[str(v["id"]) for v in VECTORS])
def test_canonical_phone(vector: dict[str, object]) -> None:
    assert canonical_phone(str(vector["input"])) == vector["canonical_e164"]


@pytest.mark.parametrize("vector", [v for v in VECTORS if v["outbound_jid_candidates"]], ids=lambda v: str(v["id"]))
def test_outbound_jid_candidates(vector: dict[str, object]) -> None:
    assert list(jid_candidates(str(vector["canonical_e164"]))) == vector["outbound_jid_candidates"]


@pytest.mark.parametrize(
    ("jid", "kind"),
    [
        ("120363123456789012@g.us", ChatKind.GROUP),
        ("status@broadcast", ChatKind.STATUS),
        ("1234567890@broadcast", ChatKind.BROADCAST),
        ("120363400000000001@newsletter", ChatKind.NEWSLETTER),
    ],
)
def test_group_broadcast_status_newsletter_are_never_phones(jid: str, kind: ChatKind) -> None:
    # even with a phone-looking alternate, a non-direct chat takes none
    identity = identity_of(jid, "5511987654321@s.whatsapp.net")
    assert identity.chat_kind is kind
    assert identity.phone_e164 is None
    assert identity.key == jid


def test_legacy_jid_with_device_suffix_and_lid_are_one_identity() -> None:
    a = identity_of("553187654321:7@s.whatsapp.net")
    b = identity_of("1234567890123@lid", "5531987654321@s.whatsapp.net")
    assert a.key == b.key == "+5531987654321"
    assert "553187654321@s.whatsapp.net" in a.aliases
    assert b.lid == "1234567890123@lid"
