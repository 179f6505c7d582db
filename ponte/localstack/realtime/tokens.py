"""Access tokens as Supabase Realtime checks them.

Realtime's rules differ from the REST proxy's (``ponte.adapters.jwt_verifier``): no
audience (the anon key has none), ``role`` and ``exp`` required, and errors that say
what is wrong, because the client shows them ("Token has expired 3 seconds ago").
"""

from __future__ import annotations

import time
from typing import Any

import jwt

# The roles a token may carry; each is a database role the server impersonates.
ALLOWED_ROLES = frozenset({"anon", "authenticated", "service_role"})


class TokenError(Exception):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message

    @property
    def reason(self) -> str:
        return f"{self.code}: {self.message}"


def verify(token: str | None, secret: str, *, now: float | None = None) -> dict[str, Any]:
    if not token:
        raise TokenError("InvalidJWTToken", "The token is missing")
    try:
        claims: dict[str, Any] = jwt.decode(
            token,
            secret,
            algorithms=["HS256"],
            options={"verify_exp": False, "verify_aud": False, "verify_iat": False},
        )
    except jwt.InvalidSignatureError as exc:
        raise TokenError("JwtSignatureError", "Failed to validate JWT signature") from exc
    except jwt.PyJWTError as exc:
        raise TokenError("InvalidJWTToken", f"The token could not be decoded ({type(exc).__name__})") from exc
    exp, role = claims.get("exp"), claims.get("role")
    if not isinstance(exp, int) or not isinstance(role, str):
        raise TokenError("InvalidJWTToken", "Fields `role` and `exp` are required in JWT")
    if role not in ALLOWED_ROLES:
        raise TokenError("InvalidJWTToken", f"Role {role!r} is not allowed")
    left = seconds_left(claims, now)
    if left <= 0:
        raise TokenError("InvalidJWTToken", expired_message(-left))
    return claims


def seconds_left(claims: dict[str, Any], now: float | None = None) -> int:
    return int(claims["exp"]) - int(time.time() if now is None else now)


def expired_message(seconds_ago: int) -> str:
    return f"Token has expired {max(seconds_ago, 0)} seconds ago"


def is_publishable_key(apikey: str) -> bool:
    """Supabase's new ``sb_publishable_...`` keys are not JWTs; Realtime treats them as anon."""
    return apikey.startswith("sb_publishable_")
