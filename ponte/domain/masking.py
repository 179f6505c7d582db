"""Masking for logs: phone numbers and JIDs keep only what tells them apart to a human
(country, area, first and last digits); message text and names are redacted."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

REDACTED = "[redacted]"

# Keys whose values are what people wrote or are called: never logged in clear.
TEXT_KEYS = frozenset(
    {
        "text", "body", "caption", "content", "conversation", "push_name", "pushname", "pushName",
        "display_name", "notify", "vcard", "name", "filename", "quoted", "selected_text", "address",
    }
)  # fmt: skip

# 10 to 15 digits, optionally with a leading + and the separators people type, not inside a longer
# digit run (so UUIDs, epoch milliseconds and ids with letters are left alone).
_PHONE = re.compile(r"(?<![\w+-])\+?\(?\d(?:[ ().-]{0,2}\d){9,14}(?![\w-])")


def _brazilian(area: str, subscriber: str) -> str:
    hidden = "*" * (len(subscriber) - 3)
    return f"{area} {subscriber[0]}{hidden[:-2]}-{hidden[-2:]}{subscriber[-2:]}"


def mask_phone_digits(digits: str, *, international: bool = True) -> str:
    """``5511987650021`` -> ``+55 11 9****-**21``; a national ``11987650021`` -> ``11 9****-**21``;
    other numbers keep 3 leading and 2 trailing digits."""
    if digits.startswith("55") and len(digits) in (12, 13):
        return "+55 " + _brazilian(digits[2:4], digits[4:])
    if not international and len(digits) in (10, 11):
        return _brazilian(digits[:2], digits[2:])
    return f"+{digits[:3]}{'*' * (len(digits) - 5)}{digits[-2:]}"


def mask_phones(text: str) -> str:
    def replace(match: re.Match[str]) -> str:
        digits = re.sub(r"\D", "", match.group(0))
        if not 10 <= len(digits) <= 15:
            return match.group(0)
        return mask_phone_digits(digits, international=match.group(0).startswith("+") or len(digits) > 11)

    return _PHONE.sub(replace, text)


# Keys the logger itself writes: their digits are dates and times, never phones.
LOGGER_KEYS = frozenset({"timestamp", "asctime"})


def mask(value: Any, key: str | None = None) -> Any:
    """A copy of ``value`` (a log record or any part of it) with phones masked and text redacted."""
    if key in LOGGER_KEYS:
        return value
    if key in TEXT_KEYS and value not in (None, ""):
        return REDACTED
    if isinstance(value, str):
        return mask_phones(value)
    if isinstance(value, Mapping):
        return {k: mask(v, str(k)) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [mask(v) for v in value]
    return value
