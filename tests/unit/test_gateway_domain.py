"""Backoff, phone masking, deep-link signatures (suggestion outcomes: test_feedback_domain.py)."""

from __future__ import annotations

import pytest

from ponte.domain.deeplinks import DeepLink, sign, verify
from ponte.domain.gateway import mask_phone
from ponte.domain.retry import RetryPolicy

pytestmark = pytest.mark.unit

TENANT = "00000000-0000-4000-8000-00000000d001"


def test_backoff_is_exponential_capped_and_jittered() -> None:
    policy = RetryPolicy(max_attempts=6, base_seconds=0.5, cap_seconds=3.0)
    assert policy.delays(lambda: 1.0) == [0.5, 1.0, 2.0, 3.0, 3.0]
    assert policy.delays(lambda: 0.0) == [0.0] * 5
    assert policy.delay(2, lambda: 0.5) == 0.5


@pytest.mark.parametrize(
    ("raw", "masked"),
    [
        ("+5511987654321", "+55119****4321"),
        ("5511987654321@s.whatsapp.net", "55119****4321@s.whatsapp.net"),
        ("123", "***"),
    ],
)
def test_phones_are_masked(raw: str, masked: str) -> None:
    assert mask_phone(raw) == masked


def test_a_signed_link_verifies_and_any_change_breaks_it() -> None:
    key = b"k" * 32
    link = sign(DeepLink(tenant_id=TENANT, phone="11 98765-4321", text="Seu pedido chegou!", expires_at=2_000), key)
    assert verify(link, key, now=1_000) is None
    assert verify(link.model_copy(update={"text": "Pague aqui: http://golpe"}), key, now=1_000) == "bad_signature"
    assert verify(link.model_copy(update={"phone": "11 90000-0000"}), key, now=1_000) == "bad_signature"
    assert verify(link, b"x" * 32, now=1_000) == "bad_signature"
    assert verify(link, key, now=3_000) == "expired"
    assert verify(link.model_copy(update={"signature": None}), key, now=1_000) == "unsigned"


def test_a_link_must_expire_to_be_signed() -> None:
    with pytest.raises(ValueError, match="expire"):
        sign(DeepLink(tenant_id=TENANT, phone="1"), b"k")
