"""Secrets from AWS Secrets Manager through Powertools parameters (cached for warm invocations)."""

from __future__ import annotations

from aws_lambda_powertools.utilities import parameters

CACHE_SECONDS = 300


def read_secret(name: str) -> str:
    value = parameters.get_secret(name, max_age=CACHE_SECONDS)
    if not isinstance(value, str) or not value:
        raise RuntimeError(f"secret {name!r} is empty or not a string")
    return value
