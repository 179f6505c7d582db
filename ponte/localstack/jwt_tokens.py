"""Supabase-style access tokens for the local stack and tests (HS256, GoTrue-like claims)."""

from __future__ import annotations

import time
from typing import Any

import jwt


def mint_token(
    secret: str,
    *,
    sub: str | None,
    role: str = "authenticated",
    email: str | None = None,
    ttl_seconds: int = 3600,
    aud: str = "authenticated",
    extra: dict[str, Any] | None = None,
) -> str:
    now = int(time.time())
    claims: dict[str, Any] = {
        "iss": "ponte-local",
        "aud": aud,
        "role": role,
        "iat": now,
        "exp": now + ttl_seconds,
        "app_metadata": {"provider": "email"},
        "user_metadata": {},
    }
    if sub:
        claims["sub"] = sub
    if email:
        claims["email"] = email
    claims.update(extra or {})
    return jwt.encode(claims, secret, algorithm="HS256")
