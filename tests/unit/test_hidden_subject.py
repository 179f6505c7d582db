"""Who a hide / erase request names, and every form that person arrives under."""

from __future__ import annotations

import pytest

from ponte.domain.hidden import ContactRef, InvalidContactError, subject_hash, subject_of

pytestmark = pytest.mark.unit


@pytest.mark.parametrize(
    "typed", ["+55 11 98765-0001", "(11) 98765-0001", "5511987650001@s.whatsapp.net", "551187650001@c.us"]
)
def test_every_way_of_naming_a_person_gives_one_subject_with_all_forms(typed: str) -> None:
    subject = subject_of(typed)
    assert subject.key == "+5511987650001"
    assert set(subject.forms) == {
        "+5511987650001",
        "5511987650001@s.whatsapp.net",
        "5511987650001@c.us",
        "551187650001@s.whatsapp.net",
        "551187650001@c.us",
    }


def test_a_landline_has_no_legacy_form_and_a_lid_is_its_own_key() -> None:
    assert subject_of("+55 31 3333-4444").forms == ("+553133334444", "553133334444@c.us", "553133334444@s.whatsapp.net")
    assert subject_of("123456789012345@lid").forms == ("123456789012345@lid",)


@pytest.mark.parametrize("bad", ["", "12", "120363025246125486@g.us", "status@broadcast", "abc@lid"])
def test_what_is_not_a_person_is_refused(bad: str) -> None:
    with pytest.raises(InvalidContactError):
        subject_of(bad)


def test_a_request_names_exactly_one_thing() -> None:
    with pytest.raises(ValueError):
        ContactRef(phone="+5511987650001", jid="5511987650001@s.whatsapp.net")
    with pytest.raises(ValueError):
        ContactRef()


def test_the_audit_hash_is_keyed() -> None:
    assert subject_hash(b"k1", "+5511987650001") != subject_hash(b"k2", "+5511987650001")
    assert "5511987650001" not in subject_hash(b"k1", "+5511987650001")
