"""Typed settings, parsed once per entrypoint. Explicit arguments win over the environment."""

from __future__ import annotations

import os
from collections.abc import Mapping

from pydantic import BaseModel, ConfigDict

from ponte import constants as c


class Settings(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    database_url: str | None = None
    ingest_queue_url: str | None = None
    analyze_queue_url: str | None = None
    purge_queue_url: str | None = None
    ingest_bulk_queue_url: str | None = None  # unset: every webhook uses the ingest queue
    lifecycle_queue_url: str | None = None  # unset: no lifecycle automation (states still change by hand)
    campaign_queue_url: str | None = None  # unset: no campaign sends, no reply / opt-out jobs
    campaign_time_scale: float = 1.0  # throttle durations times this (local tests and benchmarks only)
    campaign_tick_seconds: float = 60.0  # the campaign schedule's period (its planning horizon is twice it)
    campaign_stale_seconds: float = 300.0  # a claimed send without an outcome is tried again (same key) after
    max_body_bytes: int = c.DEFAULT_MAX_BODY_BYTES
    instance_events_per_second: float = c.DEFAULT_INSTANCE_EVENTS_PER_SECOND
    instance_events_burst: float = c.DEFAULT_INSTANCE_EVENTS_BURST
    jwt_secret: str | None = None
    jwks_url: str | None = None
    app_secret_name: str | None = None  # the secret-store entry with jwt_secret, audit_hash_key, worker_token
    audit_hash_key: str | None = None  # only where no secret store is configured (CLI, tests)
    secrets_max_age: int = c.DEFAULT_SECRETS_MAX_AGE
    log_debug: bool = False
    stage: str = "local"
    worker_url: str | None = None
    worker_token: str | None = None
    worker_token_secret: str | None = None
    database_url_secret: str | None = None
    worker_timeout_seconds: float = 20.0
    breaker_failures: int = 3
    breaker_reset_seconds: float = 30.0
    analyze_retry_base_seconds: int = 30
    tenant_secret_prefix: str = c.DEFAULT_TENANT_SECRET_PREFIX
    diagnostics_retention_days: int = c.DEFAULT_DIAGNOSTICS_RETENTION_DAYS
    gateway_timeout_seconds: float = c.DEFAULT_GATEWAY_TIMEOUT_SECONDS
    public_base_url: str | None = None  # the proxy's public URL (gateways' webhooks point at it)
    # an unconfirmed send (timeout) is sent again on a retry only after this long without an echo
    send_resend_after_seconds: float = 60.0
    # instance records and tenants' privacy settings, per process (0: read on every request)
    settings_cache_seconds: float = c.DEFAULT_SETTINGS_CACHE_SECONDS
    # the bearer token of GET /metrics scrapers (or the app secret's metrics_token)
    metrics_token: str | None = None
    media_queue_url: str | None = None  # unset: media messages stay metadata only
    media_bucket: str | None = None  # unset: no media fetch, no media sends
    s3_public_endpoint: str | None = None

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None, **overrides: object) -> Settings:
        env = os.environ if env is None else env
        values: dict[str, object] = {
            "database_url": env.get(c.DATABASE_URL_ENV),
            "ingest_queue_url": env.get(c.INGEST_QUEUE_URL_ENV),
            "analyze_queue_url": env.get(c.ANALYZE_QUEUE_URL_ENV),
            "purge_queue_url": env.get(c.PURGE_QUEUE_URL_ENV),
            "ingest_bulk_queue_url": env.get(c.INGEST_BULK_QUEUE_URL_ENV),
            "lifecycle_queue_url": env.get(c.LIFECYCLE_QUEUE_URL_ENV),
            "campaign_queue_url": env.get(c.CAMPAIGN_QUEUE_URL_ENV),
            "campaign_time_scale": float(env.get(c.CAMPAIGN_TIME_SCALE_ENV, "1")),
            "campaign_tick_seconds": float(env.get(c.CAMPAIGN_TICK_SECONDS_ENV, "60")),
            "campaign_stale_seconds": float(env.get(c.CAMPAIGN_STALE_SECONDS_ENV, "300")),
            "max_body_bytes": int(env.get(c.MAX_BODY_BYTES_ENV, c.DEFAULT_MAX_BODY_BYTES)),
            "instance_events_per_second": float(
                env.get(c.INSTANCE_EVENTS_PER_SECOND_ENV, c.DEFAULT_INSTANCE_EVENTS_PER_SECOND)
            ),
            "instance_events_burst": float(env.get(c.INSTANCE_EVENTS_BURST_ENV, c.DEFAULT_INSTANCE_EVENTS_BURST)),
            "jwt_secret": env.get(c.JWT_SECRET_ENV),
            "jwks_url": env.get(c.JWKS_URL_ENV),
            "app_secret_name": env.get(c.APP_SECRET_NAME_ENV),
            "audit_hash_key": env.get(c.AUDIT_HASH_KEY_ENV),
            "secrets_max_age": int(env.get(c.SECRETS_MAX_AGE_ENV, c.DEFAULT_SECRETS_MAX_AGE)),
            "log_debug": env.get(c.LOG_DEBUG_ENV, "").lower() in {"1", "true", "yes"},
            "stage": env.get(c.STAGE_ENV, "local"),
            "worker_url": env.get(c.WORKER_URL_ENV),
            "worker_token": env.get(c.WORKER_TOKEN_ENV),
            "worker_token_secret": env.get(c.WORKER_TOKEN_SECRET_ENV),
            "database_url_secret": env.get(c.DATABASE_URL_SECRET_ENV),
            "worker_timeout_seconds": float(env.get(c.WORKER_TIMEOUT_ENV, 20.0)),
            "breaker_failures": int(env.get(c.BREAKER_FAILURES_ENV, 3)),
            "breaker_reset_seconds": float(env.get(c.BREAKER_RESET_ENV, 30.0)),
            "analyze_retry_base_seconds": int(env.get(c.ANALYZE_RETRY_BASE_ENV, 30)),
            "tenant_secret_prefix": env.get(c.TENANT_SECRET_PREFIX_ENV, c.DEFAULT_TENANT_SECRET_PREFIX),
            "diagnostics_retention_days": int(
                env.get(c.DIAGNOSTICS_RETENTION_DAYS_ENV, c.DEFAULT_DIAGNOSTICS_RETENTION_DAYS)
            ),
            "gateway_timeout_seconds": float(env.get(c.GATEWAY_TIMEOUT_ENV, c.DEFAULT_GATEWAY_TIMEOUT_SECONDS)),
            "public_base_url": env.get(c.PUBLIC_BASE_URL_ENV),
            "send_resend_after_seconds": float(env.get(c.SEND_RESEND_AFTER_ENV, "60")),
            "settings_cache_seconds": float(env.get(c.SETTINGS_CACHE_SECONDS_ENV, c.DEFAULT_SETTINGS_CACHE_SECONDS)),
            "metrics_token": env.get(c.METRICS_TOKEN_ENV),
            "media_queue_url": env.get(c.MEDIA_QUEUE_URL_ENV),
            "media_bucket": env.get(c.MEDIA_BUCKET_ENV),
            "s3_public_endpoint": env.get(c.S3_PUBLIC_ENDPOINT_ENV),
        }
        values.update(overrides)
        return cls(**values)  # type: ignore[arg-type]
