"""Hide mode and erasure: who a request names, every form that person arrives under,
and what a purge reports. Pure: the store expands the forms with the aliases it learned."""

from __future__ import annotations

import hashlib
import hmac
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field, model_validator

from ponte.domain.events import ChatKind
from ponte.domain.identity import canonical_phone, chat_kind, split_jid

_PHONE_SERVERS = ("s.whatsapp.net", "c.us")


class InvalidContactError(ValueError):
    """The request names no phone, JID or contact a person can be hidden by."""


class PrivacyAction(StrEnum):
    HIDE = "hide"
    UNHIDE = "unhide"
    ERASE = "erase"
    SWEEP = "sweep"


class ContactRef(BaseModel):
    """What a hide / unhide / erase request names: a phone, a JID, or a stored contact."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    phone: str | None = Field(default=None, max_length=64)
    jid: str | None = Field(default=None, max_length=128)
    contact_id: str | None = Field(default=None, max_length=64)
    tenant_id: str | None = Field(default=None, max_length=64)

    @model_validator(mode="after")
    def _exactly_one(self) -> ContactRef:
        given = [v for v in (self.phone, self.jid, self.contact_id) if v]
        if len(given) != 1:
            raise ValueError("give exactly one of phone, jid or contact_id")
        return self


class Subject(BaseModel):
    """One person: the canonical key (E.164, or the @lid when no phone is known) and every
    form the gateways may use for them (phone JIDs on both servers, the legacy 12-digit JID)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    key: str
    forms: tuple[str, ...]


def _phone_forms(phone: str) -> tuple[str, ...]:
    digits = phone.lstrip("+")
    forms = {phone, *(f"{digits}@{server}" for server in _PHONE_SERVERS)}
    if phone.startswith("+55") and len(phone) == 14 and phone[5] == "9":
        legacy = digits[:4] + digits[5:]  # 55 DD 9 NNNNNNNN -> 55 DD NNNNNNNN
        forms.update(f"{legacy}@{server}" for server in _PHONE_SERVERS)
    return tuple(sorted(forms))


def subject_of(value: str) -> Subject:
    """The subject a typed phone or a JID names; raises :class:`InvalidContactError`."""
    value = value.strip()
    if not value:
        raise InvalidContactError("empty contact")
    if "@" in value:
        if chat_kind(value) is not ChatKind.DIRECT:
            raise InvalidContactError("groups, broadcasts, status and newsletters are not contacts")
        user, server = split_jid(value)
        if server == "lid":
            if not user.isdigit():
                raise InvalidContactError("malformed @lid")
            lid = f"{user}@lid"
            return Subject(key=lid, forms=(lid,))
    phone = canonical_phone(value)
    if phone is None:
        raise InvalidContactError("not a valid phone number or WhatsApp JID")
    return Subject(key=phone, forms=_phone_forms(phone))


class PurgeReport(BaseModel):
    """Rows deleted per table (``schema.table`` -> rows). Never the number nor content."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    counts: dict[str, int] = Field(default_factory=dict)
    total: int = 0


class HiddenContact(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    key: str
    forms: tuple[str, ...] = ()
    hidden_at: str | None = None


class HideResult(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    tenant_id: str
    contact: str
    action: PrivacyAction
    hidden_forms: int = 0
    deleted: PurgeReport = Field(default_factory=PurgeReport)


class UnhideResult(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    tenant_id: str
    contact: str
    was_hidden: bool


class HiddenList(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    tenant_id: str
    contacts: tuple[HiddenContact, ...]


class SweepResult(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    subjects: int = 0
    deleted: PurgeReport = Field(default_factory=PurgeReport)


def merge_reports(reports: list[PurgeReport]) -> PurgeReport:
    counts: dict[str, int] = {}
    for report in reports:
        for table, rows in report.counts.items():
            counts[table] = counts.get(table, 0) + rows
    return PurgeReport(counts=counts, total=sum(counts.values()))


def subject_hash(key: bytes, subject: str) -> str:
    """The audit's keyed hash of a subject key: checkable by whoever holds the number and the key."""
    return hmac.new(key, subject.encode(), hashlib.sha256).hexdigest()


class PurgeRequest(BaseModel):
    """A message on the purge queue: sweep one tenant's hidden contacts now (all tenants when None)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    tenant_id: str | None = None
    reason: str = "on_demand"
