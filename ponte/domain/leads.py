"""Leads: where a new contact came from, and the phone forms an ERP record may carry."""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel, ConfigDict

from ponte.domain.events import MessageEvent


class LeadSource(StrEnum):
    ORGANIC = "organic"
    CTWA_AD = "ctwa_ad"  # click-to-WhatsApp ad
    SEARCH = "search"  # a search entry point
    DEEP_LINK = "deep_link"  # a marketing deep link


class LeadOrigin(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    source: LeadSource = LeadSource.ORGANIC
    source_id: str | None = None
    source_url: str | None = None


def lead_origin(event: MessageEvent) -> LeadOrigin:
    """The source tag of a lead created by ``event`` (organic unless the payload says otherwise)."""
    if event.referral is None:
        return LeadOrigin()
    return LeadOrigin(
        source=LeadSource(event.referral.source),
        source_id=event.referral.source_id,
        source_url=event.referral.source_url,
    )


def phone_variants(phone_e164: str) -> tuple[str, ...]:
    """Every form of a canonical phone an ERP may have stored: E.164 with and without the
    Brazilian 9th digit, and the same digits without ``+``, with and without the country code."""
    forms = {phone_e164}
    if phone_e164.startswith("+55") and len(phone_e164) == 14 and phone_e164[5] == "9":
        forms.add(phone_e164[:5] + phone_e164[6:])  # legacy 8-digit mobile
    digits = {f[1:] for f in forms}
    national = {d[2:] for d in digits if d.startswith("55")}
    return tuple(sorted(forms | digits | national))
