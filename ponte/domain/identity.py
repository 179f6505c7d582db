"""Canonical contact identity from WhatsApp JIDs and typed phone numbers.

Rules (see shared reference "phones"): strip the device suffix, never treat group,
broadcast, status, newsletter or LID JIDs as phones, add the Brazilian 9th digit to
legacy 8-digit mobiles, keep landlines at 8 digits, validate with libphonenumber.
"""

from __future__ import annotations

import re

import phonenumbers

from ponte.domain.events import ChatKind, Identity

_DEVICE = re.compile(r":\d+(?=@|$)")
_PHONE_SERVERS = {"s.whatsapp.net", "c.us"}


def split_jid(jid: str) -> tuple[str, str]:
    """``user[:device]@server`` -> (user, server), device suffix removed."""
    jid = jid.strip()
    user, _, server = jid.partition("@")
    user = _DEVICE.sub("", user)
    return user, server.lower()


def chat_kind(jid: str) -> ChatKind:
    user, server = split_jid(jid)
    if server == "g.us":
        return ChatKind.GROUP
    if server == "broadcast":
        return ChatKind.STATUS if user == "status" else ChatKind.BROADCAST
    if server == "newsletter":
        return ChatKind.NEWSLETTER
    return ChatKind.DIRECT


def canonical_phone(text: str) -> str | None:
    """E.164 with the Brazilian 9th digit, or None when ``text`` is not a valid phone."""
    text = text.strip()
    if "@" in text:
        user, server = split_jid(text)
        if server not in _PHONE_SERVERS or not user.isdigit():
            return None
        candidate = "+" + user
        region = None
    else:
        candidate = text
        region = "BR"
    try:
        number = phonenumbers.parse(candidate, region)
    except phonenumbers.NumberParseException:
        return None
    if number.country_code == 55:
        national = str(number.national_number)
        if len(national) == 10 and national[2] in "6789":
            number = phonenumbers.parse(f"+55{national[:2]}9{national[2:]}")
    if not phonenumbers.is_valid_number(number):
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def identity_from_jid(jid: str, *, phone_hint: str | None = None) -> Identity:
    """Canonical identity of a JID; ``phone_hint`` links an @lid to its phone JID when the payload has it."""
    user, server = split_jid(jid)
    bare = f"{user}@{server}" if server else user
    kind = chat_kind(jid)
    if kind is not ChatKind.DIRECT:
        return Identity(key=bare, jid=bare, chat_kind=kind)
    lid = bare if server == "lid" else None
    phone = canonical_phone(bare) if lid is None else None
    if phone is None and phone_hint:
        phone = canonical_phone(phone_hint)
    aliases = tuple(sorted({a for a in (bare, lid, _legacy_jid(phone)) if a}))
    return Identity(key=phone or bare, phone_e164=phone, jid=bare, lid=lid, aliases=aliases)


def _legacy_jid(phone: str | None) -> str | None:
    """The 12-digit JID a pre-2016 Brazilian mobile may still use on WhatsApp."""
    if phone is None or not phone.startswith("+55") or len(phone) != 14:
        return None
    digits = phone[1:]
    return f"{digits[:4]}{digits[5:]}@s.whatsapp.net"
