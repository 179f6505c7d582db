"""Parsing a request body that anyone may have written: bounded, and clean before it is used.

- orjson parses (bounded nesting: 1,024 levels; numbers beyond a double's range are refused,
  so a 5,000-digit integer cannot cost a quadratic int conversion);
- a UTF-8 byte-order mark is tolerated; invalid UTF-8 is ``invalid_json``;
- NUL (``\\u0000``) and lone UTF-16 surrogates (``\\ud800`` without its pair) are replaced with
  U+FFFD in every string before parsing. Neither can be stored in PostgreSQL text nor encoded as
  UTF-8 for the queue, and neither carries meaning in a WhatsApp message: a text or a name with
  one is kept, cleaned. The replacement is deterministic, so a redelivered payload yields the same
  message id and still deduplicates. (A raw NUL or control character outside an escape is not
  JSON at all and is refused by the parser.)
"""

from __future__ import annotations

import re
from typing import Any

import orjson

from ponte.services.exceptions import BadRequestError, UnprocessableError

MAX_DEPTH = 1024  # orjson's own bound on nested arrays and objects

_BOM = b"\xef\xbb\xbf"
# Tokens that matter for the clean-up, scanned left to right so that an escaped backslash
# (``\\``) is consumed whole and never read as the start of an escape.
_ESCAPES = re.compile(
    rb"\\\\"
    rb"|\\u[dD][89abAB][0-9a-fA-F]{2}\\u[dD][c-fC-F][0-9a-fA-F]{2}"  # a valid surrogate pair
    rb"|\\u(?:[dD][89a-fA-F][0-9a-fA-F]{2}|0000)"  # a lone surrogate, or NUL
)
_REPLACEMENT = rb"\ufffd"


def _clean(match: re.Match[bytes]) -> bytes:
    token = match.group(0)
    if token == b"\\\\" or len(token) == 12:
        return token
    return _REPLACEMENT


def clean_escapes(body: bytes) -> bytes:
    """``body`` with NUL and lone-surrogate escapes replaced by U+FFFD (cheap when there are none)."""
    if b"\\u" not in body:
        return body
    return _ESCAPES.sub(_clean, body)


def parse_json_body(body: bytes) -> Any:
    """The JSON value of ``body``; 400 ``invalid_json``, or 422 ``too_deep`` / ``bad_number``."""
    if body.startswith(_BOM):
        body = body[len(_BOM) :]
    try:
        return orjson.loads(clean_escapes(body))
    except orjson.JSONDecodeError as exc:
        reason = str(exc)
        if "depth" in reason or "recursion" in reason:
            raise UnprocessableError(f"JSON nested deeper than {MAX_DEPTH} levels", code="too_deep") from exc
        if "infinity" in reason:
            raise UnprocessableError("a JSON number is out of range", code="bad_number") from exc
        raise BadRequestError(f"invalid JSON: {reason.split(':', 1)[0][:120]}", code="invalid_json") from exc
