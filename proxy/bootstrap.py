"""The proxy's composition root: settings read once, adapters wired once per container."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import boto3

from ponte.adapters.cached import CachedInstanceDirectory, CachedPrivacySettings
from ponte.adapters.cloud_credentials import SecretCloudCredentials
from ponte.adapters.gateways.factory import gateway_factory_from_settings
from ponte.adapters.jwt_verifier import InvalidTokenError, JwtVerifier
from ponte.adapters.postgres.accounts import PgMembershipReader
from ponte.adapters.postgres.campaigns import PgCampaignStore
from ponte.adapters.postgres.db import Database
from ponte.adapters.postgres.deeplinks import PgDeepLinkReader
from ponte.adapters.postgres.diagnostics import PgDiagnosticsLog
from ponte.adapters.postgres.diagnostics_reader import PgDiagnosticsReader
from ponte.adapters.postgres.feedback import PgFeedbackStore
from ponte.adapters.postgres.inbox import PgInboxReader
from ponte.adapters.postgres.instances import PgInstanceDirectory
from ponte.adapters.postgres.lifecycle import PgLifecycleStore
from ponte.adapters.postgres.media import PgMediaReader, PgMediaRecords
from ponte.adapters.postgres.metrics import PgMetricsRows
from ponte.adapters.postgres.operations import PgOperationsStore
from ponte.adapters.postgres.opt_outs import PgOptOutStore
from ponte.adapters.postgres.privacy import PgPrivacySettings
from ponte.adapters.postgres.quarantine import PgQuarantineStore
from ponte.adapters.postgres.reports import PgReportStore
from ponte.adapters.postgres.sending import PgSendStore, PgSuggestions
from ponte.adapters.postgres.sessions import PgSessionStore
from ponte.adapters.postgres.templates import PgTemplateStore
from ponte.adapters.prometheus import OperationsCollector, exposition, sqs_depths
from ponte.adapters.secrets import (
    JWT_SECRET,
    METRICS_TOKEN,
    PowertoolsSecretStore,
    app_secret,
    resolve_secrets,
    secret_store,
)
from ponte.adapters.sqs import SqsLifecycleQueue
from ponte.adapters.tenant_keys import SecretTenantKeys
from ponte.domain.outbox import OutboxRecord
from ponte.domain.outcomes import Normalized
from ponte.ports.clock import Clock
from ponte.ports.gateway import GatewayFactory
from ponte.ports.lifecycle import LifecycleQueue
from ponte.ports.media import ObjectStore
from ponte.ports.queue import EventQueue
from ponte.ports.secrets import SecretStore
from ponte.services.accounts import AccountService
from ponte.services.campaign_consent import ConsentService
from ponte.services.campaigns import CampaignService
from ponte.services.cloud_webhooks import CloudWebhooks
from ponte.services.deeplinks import DeepLinkService
from ponte.services.diagnostics import DiagnosticsService
from ponte.services.exceptions import UnauthorizedError
from ponte.services.feedback import FeedbackService
from ponte.services.gate import EventGate
from ponte.services.inbox import InboxService
from ponte.services.intake import IntakeService
from ponte.services.lifecycle import LifecycleService
from ponte.services.media import MediaService
from ponte.services.metrics import MetricsService
from ponte.services.operations import OperationsService
from ponte.services.privacy import PrivacyService
from ponte.services.quarantine_replay import QuarantineReplayService
from ponte.services.rate_limit import InstanceRateLimiter
from ponte.services.reports import ReportService
from ponte.services.sending import SendService
from ponte.services.sessions import SessionService
from ponte.services.templates import TemplateService
from ponte.settings import Settings
from ponte.wiring import build_rewriter, ingest_queue, object_store, phone_hasher, privacy_service
from proxy import providers


@dataclass
class ProxyContainer:
    settings: Settings
    db: Database
    intake: IntakeService
    quarantine_replay: QuarantineReplayService
    accounts: AccountService
    verifier: JwtVerifier | None
    feedback: FeedbackService
    privacy: PrivacyService | None
    sending: SendService
    sessions: SessionService
    deeplinks: DeepLinkService
    diagnostics: DiagnosticsService
    inbox: InboxService
    lifecycle: LifecycleService
    operations: OperationsService
    reports: ReportService
    metrics: MetricsService
    templates: TemplateService
    instances: CachedInstanceDirectory
    media: MediaService | None = None
    campaigns: CampaignService | None = None
    consent: ConsentService | None = None


def _normalize(provider: str, payload: Any, instance: str) -> Normalized:
    return providers.normalize(provider, payload, instance=instance)


def bootstrap(
    settings: Settings | None = None,
    *,
    db: Database | None = None,
    queue: EventQueue | None = None,
    secrets: SecretStore | None = None,
    gateways: GatewayFactory | None = None,
    lifecycle_queue: LifecycleQueue | None = None,
    objects: ObjectStore | None = None,
    clock: Clock | None = None,
) -> ProxyContainer:
    settings = resolve_secrets(settings or Settings.from_env())
    secrets = secret_store(settings, secrets)
    if db is None:
        if not settings.database_url:
            raise RuntimeError("DATABASE_URL is not set")
        db = Database(settings.database_url)
    if queue is None:
        queue = ingest_queue(settings)
    # what every webhook reads, once per key per ``settings_cache_seconds`` in this process
    instances = CachedInstanceDirectory(PgInstanceDirectory(db), settings.settings_cache_seconds)
    privacy = CachedPrivacySettings(PgPrivacySettings(db).snapshot, settings.settings_cache_seconds)
    quarantine = PgQuarantineStore(db)
    diagnostics_log = PgDiagnosticsLog(db)
    # instances' gateway credentials and tenants' deep-link keys are always in the secret store
    store = secrets or PowertoolsSecretStore()
    gateways = gateways or gateway_factory_from_settings(settings, store, diagnostics_log)
    cloud = CloudWebhooks(instances=instances, credentials=SecretCloudCredentials(store))
    intake = IntakeService(
        instances=instances,
        normalize=_normalize,
        queue=queue,
        diagnostics=diagnostics_log,
        privacy=privacy,
        max_body_bytes=settings.max_body_bytes,
        quarantine=quarantine,
        limiter=InstanceRateLimiter(
            rate=settings.instance_events_per_second, burst=settings.instance_events_burst, monotonic=time.monotonic
        ),
        cloud=cloud,
    )
    replay = QuarantineReplayService(
        quarantine=quarantine,
        instances=instances,
        normalize=_normalize,
        gate=EventGate(privacy=privacy, queue=queue, clock=Clock()),
        cloud=cloud,
    )
    verifier = None
    jwt_secret = settings.jwt_secret or app_secret(settings, secrets, JWT_SECRET)
    if jwt_secret or settings.jwks_url:
        verifier = JwtVerifier(hs256_secret=jwt_secret, jwks_url=settings.jwks_url)
    memberships = PgMembershipReader(db)
    if lifecycle_queue is None and settings.lifecycle_queue_url:
        lifecycle_queue = SqsLifecycleQueue(settings.lifecycle_queue_url)
    lifecycle = LifecycleService(PgLifecycleStore(db), queue=lifecycle_queue)
    operations = OperationsService(PgOperationsStore(db), memberships, lifecycle)
    objects = objects or object_store(settings)
    media = (
        MediaService(store=objects, records=PgMediaRecords(db), reader=PgMediaReader(db), gateways=gateways)
        if objects is not None
        else None
    )
    privacy_actions = privacy_service(db, settings, secrets, media, on_change=privacy.invalidate)
    return ProxyContainer(
        settings=settings,
        db=db,
        intake=intake,
        quarantine_replay=replay,
        accounts=AccountService(memberships),
        verifier=verifier,
        feedback=FeedbackService(PgFeedbackStore(db)),
        privacy=privacy_actions,
        sending=SendService(
            store=PgSendStore(db),
            gateways=gateways,
            suggestions=PgSuggestions(db),
            resend_after_seconds=settings.send_resend_after_seconds,
            # an agent's reply stops the conversation's clocks (and takes it when nobody holds it)
            on_sent=lambda record, author: _reply_clock(lifecycle, record, author),
            uploads=media,
        ),
        sessions=SessionService(store=PgSessionStore(db), gateways=gateways),
        deeplinks=DeepLinkService(
            reader=PgDeepLinkReader(db), keys=SecretTenantKeys(store, settings.tenant_secret_prefix)
        ),
        diagnostics=DiagnosticsService(PgDiagnosticsReader(db), retention_days=settings.diagnostics_retention_days),
        inbox=InboxService(PgInboxReader(db)),
        lifecycle=lifecycle,
        operations=operations,
        reports=ReportService(PgReportStore(db), operations),
        metrics=_metrics(settings, secrets, db, verifier, memberships),
        templates=TemplateService(store=PgTemplateStore(db), gateways=gateways),
        instances=instances,
        media=media,
        **_campaigns(db, settings, secrets, clock),
    )


def _campaigns(db: Database, settings: Settings, secrets: SecretStore | None, clock: Clock | None) -> dict[str, Any]:
    """Campaign routes and the suppression list; the model's rewrite when a worker is configured."""
    store, opt_outs, hasher = PgCampaignStore(db), PgOptOutStore(db), phone_hasher(settings, secrets)
    service = CampaignService(
        store,
        opt_outs,
        PgPrivacySettings(db),
        hasher,
        rewriter=build_rewriter(settings, secrets),
        clock=clock,
        time_scale=settings.campaign_time_scale,
    )
    return {"campaigns": service, "consent": ConsentService(store, opt_outs, hasher)}


def _metrics(
    settings: Settings,
    secrets: SecretStore | None,
    db: Database,
    verifier: JwtVerifier | None,
    memberships: PgMembershipReader,
) -> MetricsService:
    """GET /metrics: the scraper's token from the settings or the app secret, or an admin's JWT."""
    rows = PgMetricsRows(db)
    urls = {
        name: url
        for name, url in (
            ("ingest", settings.ingest_queue_url),
            ("bulk", settings.ingest_bulk_queue_url),
            ("purge", settings.purge_queue_url),
            ("lifecycle", settings.lifecycle_queue_url),
        )
        if url
    }
    queues = sqs_depths(boto3.client("sqs"), urls) if urls else None

    def verify(token: str) -> dict[str, Any]:
        if verifier is None:
            raise UnauthorizedError("invalid token")
        try:
            return verifier.verify(token)
        except InvalidTokenError as exc:
            raise UnauthorizedError("invalid or expired token") from exc

    return MetricsService(
        token=settings.metrics_token or app_secret(settings, secrets, METRICS_TOKEN),
        verify=verify,
        memberships=memberships,
        collector=lambda tenants: OperationsCollector(rows, queues, tenants),
        exposition=exposition,
    )


def _reply_clock(lifecycle: LifecycleService, record: OutboxRecord, author: str | None) -> None:
    if record.conversation_id and record.message_id:
        lifecycle.record_reply(record.tenant_id, record.conversation_id, record.message_id, author, record.updated_at)
