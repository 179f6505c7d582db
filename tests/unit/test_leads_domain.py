"""Lead source tags and the phone forms an ERP record may carry."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from ponte.domain.events import Direction, MessageEvent, MessageKind, Provider, Referral
from ponte.domain.identity import identity_from_jid
from ponte.domain.leads import LeadSource, lead_origin, phone_variants

pytestmark = pytest.mark.unit


def test_variants_cover_the_9th_digit_and_digit_only_forms() -> None:
    forms = set(phone_variants("+5511987650001"))
    assert {"+5511987650001", "+551187650001", "5511987650001", "551187650001", "11987650001", "1187650001"} == forms


def test_landlines_and_foreign_numbers_have_no_legacy_form() -> None:
    assert "+551132650001" in phone_variants("+551132650001")
    assert len([f for f in phone_variants("+551132650001") if f.startswith("+")]) == 1
    assert set(phone_variants("+14155550100")) == {"+14155550100", "14155550100"}


def event(referral: Referral | None) -> MessageEvent:
    return MessageEvent(
        provider=Provider.EVOLUTION,
        instance="demo",
        provider_message_id="X",
        direction=Direction.INBOUND,
        chat=identity_from_jid("5511987650001@s.whatsapp.net"),
        kind=MessageKind.TEXT,
        text="oi",
        occurred_at=datetime(2026, 1, 1, tzinfo=UTC),
        referral=referral,
    )


def test_source_is_organic_unless_the_payload_says_otherwise() -> None:
    assert lead_origin(event(None)).source is LeadSource.ORGANIC
    ad = lead_origin(event(Referral(source="ctwa_ad", source_id="ad-42", source_url="https://fb.me/x")))
    assert (ad.source, ad.source_id, ad.source_url) == (LeadSource.CTWA_AD, "ad-42", "https://fb.me/x")
