"""Wiring shared by the composition roots (proxy, functions, CLI): built once per container."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import boto3
from botocore.config import Config

from ponte.adapters.postgres.accounts import PgMembershipReader
from ponte.adapters.postgres.db import Database
from ponte.adapters.postgres.privacy_admin import PgPrivacyAdmin, PgPurgeStore
from ponte.adapters.s3_media import S3ObjectStore
from ponte.adapters.secrets import AUDIT_HASH_KEY, WORKER_TOKEN, app_secret, read_secret
from ponte.adapters.sqs import SqsEventQueue
from ponte.adapters.worker_client import HttpRewriter
from ponte.domain.hidden import subject_hash
from ponte.ports.campaigns import Rewriter
from ponte.ports.media import ObjectStore
from ponte.ports.queue import EventQueue
from ponte.ports.secrets import SecretStore
from ponte.services.lanes import IngestLanes
from ponte.services.media import MediaService
from ponte.services.privacy import PrivacyService
from ponte.settings import Settings


def privacy_service(
    db: Database,
    settings: Settings,
    secrets: SecretStore | None,
    media: MediaService | None = None,
    on_change: Callable[[str], None] | None = None,
) -> PrivacyService | None:
    """None without an audit key: privacy actions are refused rather than audited in clear. With the
    media bucket, every purge also deletes the purged files' objects. ``on_change(tenant_id)``
    after a hide, unhide or erasure (a cache of the tenant's hidden list drops its copy)."""
    key = app_secret(settings, secrets, AUDIT_HASH_KEY) or settings.audit_hash_key
    if not key:
        return None
    return PrivacyService(
        admin=PgPrivacyAdmin(db),
        purge=PgPurgeStore(db),
        memberships=PgMembershipReader(db),
        audit_key=key.encode(),
        on_change=on_change,
        after_purge=media.empty_trash if media is not None else None,
    )


def object_store(settings: Settings, client: Any | None = None) -> ObjectStore | None:
    """The media bucket (S3), when the settings name one."""
    if not settings.media_bucket:
        return None
    local = settings.s3_public_endpoint is not None  # the local stack: moto's S3, path-style URLs
    config = Config(signature_version="s3v4", s3={"addressing_style": "path"} if local else {})
    client = client or boto3.client("s3", config=config)
    public = boto3.client("s3", endpoint_url=settings.s3_public_endpoint, config=config) if local else None
    return S3ObjectStore(client, settings.media_bucket, public_client=public)


def phone_hasher(settings: Settings, secrets: SecretStore | None) -> Callable[[str], str] | None:
    """The keyed hash of a number that opt-outs are kept under (the audit key, as the privacy audit
    hashes its subjects); None without a key: campaigns are refused rather than kept in clear."""
    key = app_secret(settings, secrets, AUDIT_HASH_KEY) or settings.audit_hash_key
    if not key:
        return None
    raw = key.encode()
    return lambda phone: subject_hash(raw, phone)


def build_rewriter(settings: Settings, secrets: SecretStore | None) -> Rewriter | None:
    """The worker's campaign rewrite when a worker is configured (with its token); None otherwise:
    campaigns then send their template text."""
    if not settings.worker_url:
        return None
    if settings.worker_token_secret:
        token: str | None = read_secret(settings.worker_token_secret)
    else:
        token = settings.worker_token or app_secret(settings, secrets, WORKER_TOKEN)
    if not token:
        return None
    return HttpRewriter(settings.worker_url, token, read_timeout=settings.worker_timeout_seconds)


def ingest_queue(settings: Settings, client: Any | None = None) -> EventQueue:
    """The webhook's hand-over to ingest: the live queue, and the bulk lane when it is configured."""
    if not settings.ingest_queue_url:
        raise RuntimeError("PONTE_INGEST_QUEUE_URL is not set")
    bulk = settings.ingest_bulk_queue_url
    return IngestLanes(SqsEventQueue(settings.ingest_queue_url, client), SqsEventQueue(bulk, client) if bulk else None)
