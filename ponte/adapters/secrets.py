"""Secrets from AWS Secrets Manager through Powertools parameters (cached for ``max_age`` seconds).

Locally ``AWS_ENDPOINT_URL`` points boto3 at moto's server, where the local stack puts its
secrets at start. Values are never logged: errors name the secret, never its content.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import boto3
from aws_lambda_powertools.utilities import parameters
from aws_lambda_powertools.utilities.parameters.exceptions import GetParameterError, TransformParameterError

from ponte.adapters.logs import install_secret_redaction, register_secret_values
from ponte.ports.secrets import SecretNotFoundError, SecretStore
from ponte.settings import Settings

DEFAULT_MAX_AGE_SECONDS = 300
CACHE_SECONDS = DEFAULT_MAX_AGE_SECONDS

# Field names inside the application secret (one JSON secret per stage).
JWT_SECRET = "jwt_secret"
AUDIT_HASH_KEY = "audit_hash_key"
WORKER_TOKEN = "worker_token"
METRICS_TOKEN = "metrics_token"  # what a Prometheus scraper sends to GET /metrics
# Fields of a gateway instance's secret (whatsapp_instances.credentials_secret_name names it).
GATEWAY_API_KEY = "api_key"
WEBHOOK_SECRET = "webhook_secret"


class PowertoolsSecretStore(SecretStore):
    def __init__(self, *, max_age: int = DEFAULT_MAX_AGE_SECONDS, client: Any | None = None) -> None:
        self._client = client
        self._provider: parameters.SecretsProvider | None = None
        self._max_age = max_age
        install_secret_redaction()  # before the first read: botocore may log the response

    def _secrets(self) -> parameters.SecretsProvider:
        # One provider per store (not Powertools' process-wide default) so that its boto3 client
        # follows the endpoint this store was built for; made on the first read, so that a
        # composition root that never reads a secret needs no AWS region or credentials.
        if self._provider is None:
            client = self._client or boto3.client("secretsmanager")
            self._provider = parameters.SecretsProvider(boto3_client=client)
        return self._provider

    def get(self, name: str) -> Mapping[str, str]:
        try:
            value = self._secrets().get(name, transform="json", max_age=self._max_age)
        except (GetParameterError, TransformParameterError):
            # "from None": the boto3 error may quote the request; the secret's name is enough
            raise SecretNotFoundError(f"secret {name!r} could not be read") from None
        if not isinstance(value, dict) or not all(isinstance(v, str) for v in value.values()):
            raise SecretNotFoundError(f"secret {name!r} is not a JSON object of strings")
        register_secret_values(*value.values())
        return value


def put_secret(client: Any, name: str, value: Mapping[str, str]) -> None:
    """Create or update a JSON secret (the local stack's start-up and the CLI use it)."""
    body = json.dumps(dict(value))
    try:
        client.create_secret(Name=name, SecretString=body)
    except client.exceptions.ResourceExistsException:
        client.put_secret_value(SecretId=name, SecretString=body)


def secret_store(settings: Settings, secrets: SecretStore | None = None) -> SecretStore | None:
    """The given store, or Secrets Manager when the settings name an application secret."""
    if secrets is None and settings.app_secret_name:
        secrets = PowertoolsSecretStore(max_age=settings.secrets_max_age)
    return secrets


def app_secret(settings: Settings, secrets: SecretStore | None, key: str) -> str | None:
    """A field of the application secret, when a secret store is configured."""
    if secrets is None or not settings.app_secret_name:
        return None
    return secrets.get(settings.app_secret_name).get(key) or None


def read_secret(name: str) -> str:
    """A plain-string secret (e.g. the worker token's own entry), cached like the JSON ones."""
    install_secret_redaction()
    value = parameters.get_secret(name, max_age=CACHE_SECONDS)
    if not isinstance(value, str) or not value:
        raise RuntimeError(f"secret {name!r} is empty or not a string")
    register_secret_values(value)
    return value


def resolve_secrets(settings: Settings) -> Settings:
    """Fill in the database URL from its named secret (deployed stages: the stack passes the name).

    A value given directly (local stack, tests) wins, so nothing is fetched there.
    """
    if settings.database_url or not settings.database_url_secret:
        return settings
    return settings.model_copy(update={"database_url": read_secret(settings.database_url_secret)})
