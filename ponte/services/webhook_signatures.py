"""Webhook signatures a gateway (or a relay in front of it) can send, checked in constant time.

- ``hmac-sha256``: ``<header>: [sha256=]<hex HMAC-SHA256(key, raw body)>`` -- authenticates the body.
- ``evolution-jwt``: Evolution API 2.3+ turns a ``jwt_key`` entry of the instance's webhook headers
  into ``Authorization: Bearer <JWT HS256 {iat, exp = iat + 600, app: "evolution", action: "webhook"}>``
  -- authenticates the sender (the token does not cover the body).
"""

from __future__ import annotations

import hashlib
import hmac
from datetime import datetime

import jwt

_LEEWAY_SECONDS = 30  # clock skew between the gateway's VPS and us


def body_signature(key: str, body: bytes) -> str:
    """``sha256=<hex HMAC-SHA256(key, raw body)>``, as Meta signs X-Hub-Signature-256."""
    return "sha256=" + hmac.new(key.encode(), body, hashlib.sha256).hexdigest()


def valid_body_signature(header: str | None, key: str, body: bytes) -> bool:
    given = (header or "").strip().removeprefix("sha256=").lower()
    expected = body_signature(key, body).removeprefix("sha256=")
    return hmac.compare_digest(given.encode(), expected.encode())


def valid_evolution_jwt(authorization: str | None, key: str, *, now: datetime) -> bool:
    scheme, _, token = (authorization or "").strip().partition(" ")
    if scheme.lower() != "bearer" or not token:
        return False
    try:
        claims = jwt.decode(
            token,
            key,
            algorithms=["HS256"],
            # times are checked below against the service's clock, not the library's
            options={"require": ["exp", "iat"], "verify_iat": False, "verify_exp": False},
        )
    except jwt.PyJWTError:
        return False
    iat, exp, at = claims.get("iat"), claims.get("exp"), now.timestamp()
    if not isinstance(iat, int | float) or not isinstance(exp, int | float):
        return False
    if iat > at + _LEEWAY_SECONDS or exp < at - _LEEWAY_SECONDS:
        return False  # issued in the future, or expired
    return claims.get("app") == "evolution" and claims.get("action") == "webhook"
