"""Small, strict readers shared by the provider normalizers.

Gateway payloads are untyped JSON: every value is checked for its type before use so
that a surprising shape ends in a precise ``AnomalousPayloadError`` (or a missing
optional value), never in a ``TypeError`` or a pydantic ``ValidationError``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from typing import Any

from ponte.domain.events import CanonicalEvent, Identity, build
from ponte.domain.exceptions import AnomalousPayloadError, UnsupportedEventError
from ponte.domain.identity import canonical_phone, payload_identity
from ponte.domain.outcomes import Normalized, Outcome

Handler = Callable[[Any, str], Sequence[CanonicalEvent]]
_ACCEPTED = Outcome.ACCEPTED

_VCARD_TEL = re.compile(r"^(?:item\d+\.)?TEL([^:\n]*):([^\n]{0,40})$", re.IGNORECASE | re.MULTILINE)
_WAID = re.compile(r"waid=(\d{8,15})", re.IGNORECASE)
_VCARD_NAME = re.compile(r"^FN[^:\n]*:(.+)$", re.IGNORECASE | re.MULTILINE)


def run_handler(name: str, handler: Handler | None, data: Any, instance: str) -> Normalized:
    """The outcome of a known event: its handler's events, or "ignored" when it has none."""
    if handler is None:
        raise UnsupportedEventError(name)
    try:
        events = handler(data, instance)
    except UnsupportedEventError as exc:  # the handler's reason, under the event's name
        raise UnsupportedEventError(name, code=exc.code) from exc
    return build(
        Normalized, {"outcome": _ACCEPTED, "events": tuple(events), "reason": None, "detail": None, "event_name": name}
    )


def obj(value: Any) -> dict[str, Any]:
    """``value`` when it is a JSON object, else an empty one."""
    return value if isinstance(value, dict) else {}


def text(value: Any) -> str | None:
    """A non-empty string, or None."""
    return value if isinstance(value, str) and value != "" else None


def integer(value: Any) -> int | None:
    """Protobuf leftovers: numbers may arrive as strings (``fileLength: "255244"``) or Long objects."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and value.strip().isascii() and value.strip().isdigit():
        return int(value.strip())
    if isinstance(value, dict):
        low, high = value.get("low"), value.get("high")
        if isinstance(low, int) and not isinstance(low, bool):
            return ((high if isinstance(high, int) else 0) << 32) | (low & 0xFFFFFFFF)
    return None


def number(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            return None
    return None


def items(data: Any, what: str) -> list[dict[str, Any]]:
    """``data`` that is one object or an array of objects (Evolution sends both for one event)."""
    if isinstance(data, dict):
        return [data]
    if isinstance(data, list) and all(isinstance(d, dict) for d in data):
        if not data:  # a sync with nothing in it: acknowledged, nothing to keep
            raise UnsupportedEventError(what, code="no_content")
        return data
    raise AnomalousPayloadError("bad_data", f"{what}: data must be an object or an array of objects")


def serialized_id(value: Any) -> str | None:
    """WPPConnect ids are strings in messages and ``{..., _serialized}`` objects in acks and reactions."""
    if isinstance(value, dict):
        value = value.get("_serialized")
    return text(value)


def require_identity(jid: Any, *alternates: Any, field: str) -> Identity:
    """The identity of a well-formed JID; masked or redacted ids (``55119****@...``) are anomalous."""
    found = payload_identity(jid, alternates)
    if isinstance(found, str):
        problem = "is missing" if found == "missing_jid" else "is not a WhatsApp JID"
        raise AnomalousPayloadError(found, f"{field} {problem}")
    return found


def optional_identity(jid: Any, *alternates: Any) -> Identity | None:
    found = payload_identity(jid, alternates)
    return None if isinstance(found, str) else found


def vcard_contact(vcard: Any) -> tuple[str | None, tuple[str, ...]]:
    """Name and phones of a vCard: E.164 when the number is valid (the ``waid`` parameter first), else as written."""
    if not isinstance(vcard, str):
        return None, ()
    vcard = vcard[:20_000]
    name_match = _VCARD_NAME.search(vcard)
    phones: list[str] = []
    for params, written in _VCARD_TEL.findall(vcard):
        waid = _WAID.search(params)
        value = (canonical_phone(f"{waid.group(1)}@s.whatsapp.net") if waid else None) or canonical_phone(written)
        value = value or written.strip()
        if value and value not in phones:
            phones.append(value)
    return (name_match.group(1).strip() if name_match else None), tuple(phones[:10])
