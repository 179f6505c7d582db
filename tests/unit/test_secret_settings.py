"""Deployed stages pass secret names; the composition roots read the values from Secrets Manager (moto)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from aws_lambda_powertools.utilities.parameters.constants import DEFAULT_PROVIDERS
from aws_lambda_powertools.utilities.parameters.exceptions import GetParameterError
from moto import mock_aws

from ponte import constants as c
from ponte.adapters.secrets import resolve_secrets
from ponte.settings import Settings

pytestmark = pytest.mark.unit


@pytest.fixture
def secretsmanager(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    # Powertools keeps one provider (and its boto3 client) per process; make it under moto.
    DEFAULT_PROVIDERS.pop("secrets", None)
    with mock_aws():
        yield boto3.client("secretsmanager")
    DEFAULT_PROVIDERS.pop("secrets", None)


def test_the_database_url_comes_from_the_named_secret(secretsmanager: Any) -> None:
    # GIVEN the name (ARN) the stack passes, and the secret holding the value
    db = secretsmanager.create_secret(Name="ponte/t1/database-url", SecretString="postgresql://u:p@db.example.test/x")
    env = {c.DATABASE_URL_SECRET_ENV: db["ARN"]}
    # WHEN settings are resolved
    settings = resolve_secrets(Settings.from_env(env))
    # THEN the value is filled in, the name kept
    assert settings.database_url == "postgresql://u:p@db.example.test/x"
    assert settings.database_url_secret == db["ARN"]


def test_a_value_given_directly_wins_and_nothing_is_fetched(secretsmanager: Any) -> None:
    # the named secret does not exist: fetching it would raise
    env = {c.DATABASE_URL_ENV: "postgresql://local", c.DATABASE_URL_SECRET_ENV: "ponte/t2/missing"}
    settings = resolve_secrets(Settings.from_env(env))
    assert settings.database_url == "postgresql://local"


def test_a_missing_secret_is_an_error_not_a_silent_none(secretsmanager: Any) -> None:
    env = {c.DATABASE_URL_SECRET_ENV: "ponte/t3/missing"}
    with pytest.raises(GetParameterError, match=r"ResourceNotFoundException"):
        resolve_secrets(Settings.from_env(env))
