"""Cloud API credentials from the secret store, as every instance's gateway credentials are kept."""

from __future__ import annotations

from pydantic import SecretStr

from ponte.domain.cloud import ACCESS_TOKEN, APP_SECRET, GRAPH_BASE_URL, VERIFY_TOKEN, WABA_ID, CloudCredentials
from ponte.ports.cloud import CloudCredentialStore
from ponte.ports.secrets import SecretNotFoundError, SecretStore


class SecretCloudCredentials(CloudCredentialStore):
    def __init__(self, secrets: SecretStore) -> None:
        self._secrets = secrets

    def credentials(self, secret_name: str | None) -> CloudCredentials | None:
        if not secret_name:
            return None
        try:
            value = self._secrets.get(secret_name)
        except SecretNotFoundError:
            return None
        if not value.get(APP_SECRET) or not value.get(VERIFY_TOKEN):
            return None
        access = value.get(ACCESS_TOKEN)
        return CloudCredentials(
            app_secret=SecretStr(value[APP_SECRET]),
            verify_token=SecretStr(value[VERIFY_TOKEN]),
            access_token=SecretStr(access) if access else None,
            waba_id=value.get(WABA_ID) or None,
            graph_base_url=value.get(GRAPH_BASE_URL) or None,
        )
