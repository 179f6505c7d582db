"""A WhatsApp instance as the proxy sees it (never with its secrets in clear)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, SecretStr

from ponte.domain.events import Provider

DEFAULT_SIGNATURE_HEADER = "x-ponte-signature"


class InstanceRecord(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str
    tenant_id: str
    provider: Provider
    gateway_instance: str
    webhook_secret_hash: str
    # Optional HMAC-SHA256 of the body, for gateways (or relays in front of them) that can sign.
    # SecretStr: never printed by a repr or a log line.
    hmac_key: SecretStr | None = None
    signature_header: str = DEFAULT_SIGNATURE_HEADER
    # hmac-sha256: a signature of the body; evolution-jwt: Evolution's `jwt_key` bearer token
    signature_scheme: Literal["hmac-sha256", "evolution-jwt"] = "hmac-sha256"
    # the secret-store entry with the gateway credentials (Cloud API: app secret, verify and access tokens)
    credentials_secret_name: str | None = None
