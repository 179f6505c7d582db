"""Per-tenant keys in the secret store: ``<prefix>/<tenant_id>`` with a ``deeplink_key`` field."""

from __future__ import annotations

from ponte.ports.deeplinks import TenantKeys
from ponte.ports.secrets import SecretNotFoundError, SecretStore

DEEPLINK_KEY = "deeplink_key"


def tenant_secret_name(prefix: str, tenant_id: str) -> str:
    return f"{prefix.rstrip('/')}/{tenant_id}"


class SecretTenantKeys(TenantKeys):
    def __init__(self, secrets: SecretStore, prefix: str) -> None:
        self._secrets = secrets
        self._prefix = prefix

    def deeplink_key(self, tenant_id: str) -> bytes | None:
        try:
            return self._secrets.field(tenant_secret_name(self._prefix, tenant_id), DEEPLINK_KEY).encode()
        except SecretNotFoundError:
            return None
