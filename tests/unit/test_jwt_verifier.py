"""Supabase JWT verification: HS256 secret and JWKS (asymmetric signing keys)."""

from __future__ import annotations

import base64
import json
import time
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import ec
from jwt import PyJWK

from ponte.adapters.jwt_verifier import InvalidTokenError, JwtVerifier, bearer_token

pytestmark = pytest.mark.unit

SECRET = "test-secret-that-is-long-enough-for-hs256-0123456789"


def claims(**overrides: Any) -> dict[str, Any]:
    now = int(time.time())
    base = {"sub": "00000000-0000-4000-8000-000000000001", "role": "authenticated", "aud": "authenticated"}
    return {**base, "iat": now, "exp": now + 60, **overrides}


def test_valid_hs256_token_gives_its_claims() -> None:
    token = jwt.encode(claims(), SECRET, algorithm="HS256")
    assert JwtVerifier(hs256_secret=SECRET).verify(token)["sub"] == "00000000-0000-4000-8000-000000000001"


@pytest.mark.parametrize(
    "token",
    [
        None,
        "",
        "not.a.jwt",
        jwt.encode(claims(exp=int(time.time()) - 10), SECRET, algorithm="HS256"),  # expired
        jwt.encode(claims(), "another-secret-entirely-0123456789-abcdefgh", algorithm="HS256"),  # wrong signature
        jwt.encode(claims(aud="other"), SECRET, algorithm="HS256"),  # wrong audience
        jwt.encode(claims(role="service_role"), SECRET, algorithm="HS256"),  # role not allowed here
        jwt.encode({k: v for k, v in claims().items() if k != "role"}, SECRET, algorithm="HS256"),  # no role
        jwt.encode({k: v for k, v in claims().items() if k != "exp"}, SECRET, algorithm="HS256"),  # no exp
    ],
)
def test_bad_tokens_are_refused_with_one_error(token: str | None) -> None:
    with pytest.raises(InvalidTokenError):
        JwtVerifier(hs256_secret=SECRET).verify(token)


def test_alg_none_is_refused() -> None:
    header = base64.urlsafe_b64encode(json.dumps({"alg": "none", "typ": "JWT"}).encode()).rstrip(b"=")
    body = base64.urlsafe_b64encode(json.dumps(claims()).encode()).rstrip(b"=")
    with pytest.raises(InvalidTokenError):
        JwtVerifier(hs256_secret=SECRET).verify(f"{header.decode()}.{body.decode()}.")


class StaticJwks:
    """A JWKS client over one key: the same interface PyJWKClient offers."""

    def __init__(self, jwk: dict[str, Any]) -> None:
        self.key = PyJWK(jwk)

    def get_signing_key_from_jwt(self, token: str) -> PyJWK:
        if jwt.get_unverified_header(token).get("kid") != self.key.key_id:
            raise jwt.PyJWKClientError("unknown kid")
        return self.key


def test_es256_token_verified_with_the_jwks_key() -> None:
    private = ec.generate_private_key(ec.SECP256R1())
    jwk = json.loads(jwt.algorithms.ECAlgorithm.to_jwk(private.public_key()))
    jwk.update({"kid": "k1", "alg": "ES256", "use": "sig"})
    verifier = JwtVerifier(jwks_client=StaticJwks(jwk))  # type: ignore[arg-type]
    token = jwt.encode(claims(), private, algorithm="ES256", headers={"kid": "k1"})
    assert verifier.verify(token)["role"] == "authenticated"
    # a token signed by another key, or an HS256 token when only a JWKS is configured, is refused
    other = ec.generate_private_key(ec.SECP256R1())
    with pytest.raises(InvalidTokenError):
        verifier.verify(jwt.encode(claims(), other, algorithm="ES256", headers={"kid": "k1"}))
    with pytest.raises(InvalidTokenError):
        verifier.verify(jwt.encode(claims(), SECRET, algorithm="HS256"))


@pytest.mark.parametrize(
    ("header", "expected"),
    [("Bearer abc", "abc"), ("bearer  abc ", "abc"), ("Basic abc", None), ("", None), (None, None), ("Bearer", None)],
)
def test_bearer_token(header: str | None, expected: str | None) -> None:
    assert bearer_token(header) == expected
