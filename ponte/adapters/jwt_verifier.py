"""Supabase access-token verification: HS256 with the project's JWT secret, or the
asymmetric signing keys published as a JWKS (Supabase's new signing keys).

Checks the signature, ``exp``, ``aud`` and ``role``. Every failure is the same
:class:`InvalidTokenError` so that callers answer 401 without detail.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

import jwt
from jwt import PyJWKClient

ASYMMETRIC_ALGORITHMS = ("RS256", "ES256", "EdDSA")


class InvalidTokenError(Exception):
    """The token is missing, malformed, expired, for another audience, or badly signed."""


class JwtVerifier:
    def __init__(
        self,
        *,
        hs256_secret: str | None = None,
        jwks_url: str | None = None,
        jwks_client: PyJWKClient | None = None,
        audience: str = "authenticated",
        allowed_roles: Collection[str] = ("authenticated",),
        leeway_seconds: int = 0,
    ) -> None:
        if not hs256_secret and not (jwks_url or jwks_client):
            raise ValueError("a JWT secret or a JWKS URL is required")
        self._secret = hs256_secret
        self._jwks = jwks_client or (PyJWKClient(jwks_url, cache_keys=True, lifespan=600) if jwks_url else None)
        self._audience = audience
        self._roles = frozenset(allowed_roles)
        self._leeway = leeway_seconds

    def verify(self, token: str | None) -> dict[str, Any]:
        if not token:
            raise InvalidTokenError("missing token")
        try:
            algorithm = jwt.get_unverified_header(token).get("alg")
            key: Any
            if algorithm == "HS256" and self._secret:
                key = self._secret
            elif algorithm in ASYMMETRIC_ALGORITHMS and self._jwks is not None:
                key = self._jwks.get_signing_key_from_jwt(token).key
            else:  # "none", or an algorithm we were not configured for
                raise InvalidTokenError("unsupported algorithm")
            claims: dict[str, Any] = jwt.decode(
                token,
                key,
                algorithms=[algorithm],
                audience=self._audience,
                leeway=self._leeway,
                options={"require": ["exp", "role", "aud"]},
            )
        except InvalidTokenError:
            raise
        except (jwt.PyJWTError, ValueError, TypeError, KeyError) as exc:
            raise InvalidTokenError(type(exc).__name__) from exc
        if claims.get("role") not in self._roles:
            raise InvalidTokenError("role not allowed")
        return claims


def bearer_token(authorization: str | None) -> str | None:
    """The token of an ``Authorization: Bearer <token>`` header."""
    if not authorization:
        return None
    scheme, _, token = authorization.strip().partition(" ")
    return token.strip() or None if scheme.lower() == "bearer" else None
