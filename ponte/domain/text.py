"""Strings safe to store, enqueue and log."""

from __future__ import annotations

import re
from typing import Any

# In a str, a surrogate code point is always a lone one (a valid pair is one code point).
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


def clean_text(value: str, limit: int | None = None) -> str:
    """``value`` with NUL and lone surrogates replaced by U+FFFD (PostgreSQL text cannot hold NUL,
    UTF-8 cannot encode a lone surrogate), optionally cut at ``limit`` characters."""
    if limit is not None and len(value) > limit:
        value = value[:limit]
    return _UNSTORABLE.sub("\ufffd", value)


def clean_json(value: Any, limit: int = 1000) -> Any:
    """A small JSON value (a diagnostics detail) with every string cleaned and capped."""
    if isinstance(value, str):
        return clean_text(value, limit)
    if isinstance(value, dict):
        return {clean_text(str(k), 100): clean_json(v, limit) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [clean_json(v, limit) for v in value]
    return value
