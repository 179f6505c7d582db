"""Canonical contact identity from WhatsApp JIDs and typed phone numbers.

Rules (see shared reference "phones"): strip the device suffix, never treat group,
broadcast, status, newsletter or LID JIDs as phones, add the Brazilian 9th digit to
legacy 8-digit mobiles, keep landlines at 8 digits, validate with libphonenumber.

One person is one identity whatever form arrives: the key is the E.164 phone when any
of the JIDs a payload carries is a phone (``remoteJid``, ``remoteJidAlt``, ``senderPn``,
``participantAlt``...), the ``<lid>@lid`` otherwise; every form seen is kept as an alias
so that the store can link an @lid to its phone.
"""

from __future__ import annotations

import re
from functools import lru_cache

import phonenumbers

from ponte.domain.events import ChatKind, Identity

_DEVICE = re.compile(r":\d+$")
_MAX_JID = 128  # longer strings are never a JID or a phone
_CACHE_SIZE = 65536
_PHONE_SERVERS = frozenset({"s.whatsapp.net", "c.us"})
_LID_SERVER = "lid"
# DDDs that got the 9th digit in the 2012-2013 phases: their JIDs normally carry it (phones.md, R6).
_EARLY_NINE_DDDS = frozenset({"11", "12", "13", "14", "15", "16", "17", "18", "19", "21", "22", "24", "27", "28"})


def _is_digits(text: str) -> bool:
    return text.isascii() and text.isdigit()


def split_jid(jid: str) -> tuple[str, str]:
    """``user[:device]@server`` -> (user, server), device suffix removed, server lower-cased."""
    user, _, server = jid.strip().partition("@")
    return _DEVICE.sub("", user), server.lower()


def bare_jid(jid: str) -> str:
    user, server = split_jid(jid)
    return f"{user}@{server}" if server else user


def _kind(user: str, server: str) -> ChatKind:
    if server == "g.us":
        return ChatKind.GROUP
    if server == "broadcast":
        return ChatKind.STATUS if user == "status" else ChatKind.BROADCAST
    if server == "newsletter":
        return ChatKind.NEWSLETTER
    return ChatKind.DIRECT


def chat_kind(jid: str) -> ChatKind:
    return _kind(*split_jid(jid))


def is_well_formed_jid(jid: str) -> bool:
    """True for the JID forms a gateway really sends (masked or redacted ids are not)."""
    return len(jid) <= _MAX_JID and _well_formed(jid)


@lru_cache(maxsize=_CACHE_SIZE)
def _well_formed(jid: str) -> bool:
    user, server = split_jid(jid)
    if not user or not server:
        return False
    if server in _PHONE_SERVERS or server == _LID_SERVER:
        return _is_digits(user)
    if server == "g.us":
        return bool(re.fullmatch(r"[0-9]+(-[0-9]+)?", user))
    return server in {"broadcast", "newsletter"}


def canonical_phone(text: str) -> str | None:
    """E.164 with the Brazilian 9th digit, or None when ``text`` is not a valid phone.

    Cached: the same few thousand contacts write again and again, and libphonenumber
    parsing is the costliest step of normalization. Long strings are no phone and never
    reach the cache (a payload must not be able to fill it with megabytes).
    """
    return _canonical_phone(text) if len(text) <= _MAX_JID else None


@lru_cache(maxsize=_CACHE_SIZE)
def _canonical_phone(text: str) -> str | None:
    text = text.strip()
    if "@" in text:
        user, server = split_jid(text)
        if server not in _PHONE_SERVERS or not _is_digits(user):
            return None
        candidate, region = "+" + user, None
    else:
        candidate, region = text, "BR"
    try:
        number = phonenumbers.parse(candidate, region)
    except phonenumbers.NumberParseException:
        return None
    if number.country_code == 55:
        national = str(number.national_number)
        # R2: a 10-digit national number whose subscriber part starts 6-9 is a pre-2016 mobile
        if len(national) == 10 and national[2] in "6789":
            number = phonenumbers.parse(f"+55{national[:2]}9{national[2:]}")
    if not phonenumbers.is_valid_number(number):
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def _legacy_jid(phone: str | None) -> str | None:
    """The 12-digit JID a pre-2016 Brazilian mobile may still use on WhatsApp."""
    if phone is None or not phone.startswith("+55") or len(phone) != 14 or phone[5] != "9":
        return None
    digits = phone[1:]
    return f"{digits[:4]}{digits[5:]}@s.whatsapp.net"


def jid_candidates(phone_e164: str) -> tuple[str, ...]:
    """Outbound JIDs to try for a canonical phone, most likely first (phones.md R6).

    Only the gateway's on-WhatsApp lookup is authoritative; this is the offline guess.
    """
    digits = phone_e164.lstrip("+")
    modern = f"{digits}@s.whatsapp.net"
    legacy = _legacy_jid(phone_e164)
    if legacy is None or phone_e164[6] in "12345":  # 9 + [1-5] never existed with 8 digits
        return (modern,)
    if digits[2:4] in _EARLY_NINE_DDDS:
        return (modern, legacy)
    return (legacy, modern)


def _phone_of(value: str) -> str | None:
    """A phone from a JID or from the bare digits some payloads carry (``senderPn: "5511..."``)."""
    if "@" not in value:
        user = _DEVICE.sub("", value.strip())
        return canonical_phone(f"{user}@s.whatsapp.net") if _is_digits(user) else None
    return canonical_phone(value)


def identity_of(jid: str, *alternates: str | None) -> Identity:
    """Canonical identity of ``jid``; ``alternates`` are the other forms the payload gives for
    the same person (``remoteJidAlt``, ``senderPn``, ``participantAlt``, ``previousRemoteJid``...).

    Group, broadcast, status and newsletter JIDs are never phones and take no alternates.
    Cached (identities are immutable and the same people write again and again), for
    JID-sized inputs only.
    """
    if len(jid) <= _MAX_JID and all(a is None or len(a) <= _MAX_JID for a in alternates):
        return _cached_identity(jid, *alternates)
    return _identity(jid, *alternates)


def payload_identity(jid: object, alternates: tuple[object, ...]) -> Identity | str:
    """The identity of the JID a payload gives, with the other forms it gives for the same person,
    or the machine code of why there is none (``missing_jid``, ``invalid_jid``).

    Payload values are untyped JSON: alternates that are not well-formed JIDs (or bare phone
    digits) are left out, masked or redacted ids (``55119****@...``) included. Cached as one
    lookup per message for JID-sized strings -- the same chats write again and again.
    """
    if jid.__class__ is str and len(jid) <= _MAX_JID:
        for alt in alternates:
            if alt is not None and (alt.__class__ is not str or len(alt) > _MAX_JID):
                break
        else:
            return _cached_payload_identity(jid, alternates)
    return _payload_identity(jid, alternates)


def _payload_identity(jid: object, alternates: tuple[object, ...]) -> Identity | str:
    if not isinstance(jid, str) or not jid:
        return "missing_jid"
    if not is_well_formed_jid(jid):
        return "invalid_jid"
    valid = [
        alt
        for alt in alternates
        if isinstance(alt, str) and alt and is_well_formed_jid(alt if "@" in alt else f"{alt}@s.whatsapp.net")
    ]
    return identity_of(jid, *valid)


_cached_payload_identity = lru_cache(maxsize=_CACHE_SIZE)(_payload_identity)


def clear_caches() -> None:
    """Forget every cached phone and identity (benchmarks measure the cold path with it)."""
    for cache in (_well_formed, _canonical_phone, _cached_identity, _cached_payload_identity):
        cache.cache_clear()


def _identity(jid: str, *alternates: str | None) -> Identity:
    user, server = split_jid(jid)
    bare = f"{user}@{server}" if server else user
    kind = _kind(user, server)
    if kind is not ChatKind.DIRECT:
        return Identity(key=bare, jid=bare, chat_kind=kind)
    forms = [bare]
    for alt in alternates:
        if alt and isinstance(alt, str):
            alt_bare = bare_jid(alt) if "@" in alt else alt.strip()
            if alt_bare and alt_bare not in forms and chat_kind(alt_bare) is ChatKind.DIRECT:
                forms.append(alt_bare)
    phone = lid = None
    for form in forms:
        if lid is None and form.endswith("@lid"):
            lid = form
        elif phone is None and not form.endswith("@lid"):
            phone = _phone_of(form)
    aliases = {f for f in forms if "@" in f}
    if phone is not None:
        aliases.add(f"{phone[1:]}@s.whatsapp.net")
        legacy = _legacy_jid(phone)
        if legacy:
            aliases.add(legacy)
    return Identity(
        key=phone or lid or bare,
        phone_e164=phone,
        jid=bare,
        lid=lid,
        aliases=tuple(sorted(aliases)),
    )


_cached_identity = lru_cache(maxsize=_CACHE_SIZE)(_identity)


def identity_from_jid(jid: str, *, phone_hint: str | None = None) -> Identity:
    """Canonical identity of a JID; ``phone_hint`` links an @lid to its phone JID when the payload has it."""
    return identity_of(jid, phone_hint)


# Meta's business-scoped user id (Cloud API webhooks since 2026): ``BR.<alnum>``, or a parent
# BSUID shared by a managed business's portfolios, ``US.ENT.<alnum>``.
_BSUID = re.compile(r"[A-Z]{2}\.(?:ENT\.)?[A-Za-z0-9]{1,128}")
_WA_ID = re.compile(r"[0-9]{6,15}")


def is_bsuid(value: object) -> bool:
    return isinstance(value, str) and _BSUID.fullmatch(value) is not None


def bsuid_alias(user_id: str, phone_number_id: str) -> str:
    """The alias a BSUID is stored under: per instance (the business phone number that saw it)."""
    return f"bsuid:{phone_number_id}:{user_id}"


def cloud_identity(wa_id: object, user_id: object, phone_number_id: str) -> Identity | None:
    """A Cloud API user: its ``wa_id`` (digits; a Brazilian mobile's often lacks the 9th digit,
    and becomes the same E.164 key as the 13-digit form the other providers give) with its BSUID
    as an alias; or, when Meta withholds the phone (username users), the BSUID alone. None when
    the payload gives neither in a usable form."""
    alias = bsuid_alias(user_id, phone_number_id) if isinstance(user_id, str) and is_bsuid(user_id) else None
    if isinstance(wa_id, str) and _WA_ID.fullmatch(wa_id):
        identity = identity_of(f"{wa_id}@s.whatsapp.net")
        if alias is None:
            return identity
        return identity.model_copy(update={"aliases": tuple(sorted({*identity.aliases, alias}))})
    if alias is None:
        return None
    return Identity(key=alias, aliases=(alias,))
