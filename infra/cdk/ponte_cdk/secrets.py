"""The production secrets. The template holds none of their values.

Secrets Manager generates each one's initial value at deploy time; the operator
then puts the real values once (README, "Deploy"):

- ``ponte/<stage>/database-url``: the Postgres URL (a plain string);
- ``ponte/<stage>/app``: the application secret the code reads (``PONTE_APP_SECRET_NAME``),
  a JSON object with ``jwt_secret`` (Supabase's JWT secret, to be put) and
  ``audit_hash_key`` (generated: random is the right value);
- ``ponte/<stage>/worker-token``: the inference worker's bearer token (generated: copy it
  to the VPS); its own secret so that only the analyze function can read it;
- ``ponte/<stage>/gateway/<instance id>``: one JSON secret per WhatsApp instance (``api_key``,
  ``webhook_secret``; a Cloud API number: ``app_secret``, ``verify_token``, ``access_token``,
  ``waba_id``), named by ``whatsapp_instances.credentials_secret_name``. Created per instance by
  the operator, so the stack grants the name prefix rather than a secret.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from aws_cdk import ArnFormat, RemovalPolicy, Stack
from aws_cdk import aws_secretsmanager as secretsmanager
from constructs import Construct

from ponte import constants as c
from ponte_cdk.wiring import APP, DATABASE_URL, WORKER_TOKEN


@dataclass(frozen=True)
class SecretSpec:
    key: str
    construct_id: str
    name_env: str  # the env var through which a function learns the secret's name (its ARN)
    description: str
    json_template: dict[str, str] | None = None  # JSON secrets: the fields to put, and ...
    generated_field: str | None = None  # ... the one Secrets Manager fills with a random value


SECRETS = (
    SecretSpec(
        DATABASE_URL,
        "DatabaseUrl",
        c.DATABASE_URL_SECRET_ENV,
        "Postgres connection URL of the Supabase project",
    ),
    SecretSpec(
        APP,
        "App",
        c.APP_SECRET_NAME_ENV,
        "Ponte application secret: jwt_secret (Supabase JWT secret), audit_hash_key",
        json_template={"jwt_secret": ""},
        generated_field="audit_hash_key",
    ),
    SecretSpec(
        WORKER_TOKEN, "WorkerToken", c.WORKER_TOKEN_SECRET_ENV, "Bearer token of the inference worker on the VPS"
    ),
)
GATEWAY_PREFIX = "gateway"


class PonteSecrets(Construct):
    def __init__(self, scope: Construct, construct_id: str, *, name_prefix: str) -> None:
        super().__init__(scope, construct_id)
        self.name_prefix = name_prefix
        self.by_key: dict[str, secretsmanager.Secret] = {}
        self.names: dict[str, str] = {}
        self.specs = {spec.key: spec for spec in SECRETS}
        for spec in SECRETS:
            self.names[spec.key] = f"{name_prefix}/{spec.key.replace('_', '-')}"
            generator = secretsmanager.SecretStringGenerator(
                password_length=48,
                exclude_punctuation=True,
                secret_string_template=json.dumps(spec.json_template) if spec.json_template is not None else None,
                generate_string_key=spec.generated_field,
            )
            secret = secretsmanager.Secret(
                self,
                spec.construct_id,
                secret_name=self.names[spec.key],
                description=spec.description,
                generate_secret_string=generator,
            )
            # Losing the database URL or the audit key with a stack deletion helps no one.
            secret.apply_removal_policy(RemovalPolicy.RETAIN)
            self.by_key[spec.key] = secret

    def gateway_arn_pattern(self) -> str:
        """``...:secret:ponte/<stage>/gateway/*``: the per-instance gateway secrets."""
        arn: str = Stack.of(self).format_arn(
            service="secretsmanager",
            resource="secret",
            resource_name=f"{self.name_prefix}/{GATEWAY_PREFIX}/*",
            arn_format=ArnFormat.COLON_RESOURCE_NAME,
        )
        return arn
