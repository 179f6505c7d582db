"""The functions' composition root."""

from __future__ import annotations

from dataclasses import dataclass

from ponte.adapters.gateways.factory import gateway_factory_from_settings
from ponte.adapters.leia_labeler import LeiaFastLabeler
from ponte.adapters.postgres.alerts import PgAlertStore
from ponte.adapters.postgres.analysis_store import PgAnalysisStore
from ponte.adapters.postgres.campaign_sending import PgCampaignSendStore, PgReplyStore
from ponte.adapters.postgres.db import Database
from ponte.adapters.postgres.diagnostics import PgDiagnosticsLog
from ponte.adapters.postgres.diagnostics_reader import PgDiagnosticsReader
from ponte.adapters.postgres.errors import is_data_error
from ponte.adapters.postgres.ingest_store import PgIngestStore
from ponte.adapters.postgres.lifecycle import PgLifecycleStore
from ponte.adapters.postgres.media import PgMediaRecords
from ponte.adapters.postgres.opt_outs import PgOptOutStore
from ponte.adapters.postgres.privacy import PgPrivacySettings
from ponte.adapters.postgres.quarantine import PgQuarantineStore
from ponte.adapters.postgres.sending import PgSendStore, PgSuggestions
from ponte.adapters.postgres.sessions import PgSessionStore
from ponte.adapters.secrets import (
    WORKER_TOKEN,
    PowertoolsSecretStore,
    app_secret,
    read_secret,
    resolve_secrets,
    secret_store,
)
from ponte.adapters.sqs import SqsAnalyzeQueue, SqsCampaignQueue, SqsLifecycleQueue, SqsMediaQueue
from ponte.adapters.worker_client import HttpInferenceClient
from ponte.domain.breaker import Breaker
from ponte.ports.analysis import AnalyzeJobQueue, InferenceClient
from ponte.ports.campaigns import CampaignQueue
from ponte.ports.clock import Clock
from ponte.ports.gateway import GatewayFactory
from ponte.ports.lifecycle import LifecycleQueue
from ponte.ports.media import MediaJobQueue, ObjectStore
from ponte.ports.secrets import SecretStore
from ponte.services.analyze import AnalyzeService, RetryPolicy
from ponte.services.auto_sender import OutboxAutomaticSender
from ponte.services.automation import AutomationService
from ponte.services.campaign_pacing import InstancePacer, PacedGateways
from ponte.services.campaign_replies import CampaignReplies
from ponte.services.campaign_sender import CampaignSender, SenderTiming
from ponte.services.diagnostics import DiagnosticsService
from ponte.services.ingest import IngestService
from ponte.services.ingest_failures import IngestFailures
from ponte.services.lifecycle import LifecycleService
from ponte.services.media import MediaService
from ponte.services.privacy import PrivacyService
from ponte.services.sending import SendService
from ponte.services.sessions import SessionService
from ponte.settings import Settings
from ponte.wiring import build_rewriter, object_store, phone_hasher, privacy_service


@dataclass
class FunctionsContainer:
    settings: Settings
    db: Database
    ingest: IngestService
    analyze: AnalyzeService
    sessions: SessionService
    diagnostics: DiagnosticsService
    lifecycle: LifecycleService
    automation: AutomationService
    privacy: PrivacyService | None = None
    ingest_failures: IngestFailures | None = None
    media: MediaService | None = None
    campaigns: CampaignFunctions | None = None


def worker_token(settings: Settings, secrets: SecretStore | None = None) -> str | None:
    """The worker's bearer token: its own secret when one is named, the local setting, or the
    ``worker_token`` field of the application secret."""
    if settings.worker_token_secret:
        return read_secret(settings.worker_token_secret)
    return settings.worker_token or app_secret(settings, secrets, WORKER_TOKEN)


def build_inference(settings: Settings, secrets: SecretStore | None = None) -> InferenceClient | None:
    if not settings.worker_url:
        return None
    token = worker_token(settings, secrets)
    if not token:
        raise RuntimeError("PONTE_WORKER_URL is set but no worker token (PONTE_WORKER_TOKEN_SECRET)")
    return HttpInferenceClient(settings.worker_url, token, read_timeout=settings.worker_timeout_seconds)


def bootstrap(
    settings: Settings | None = None,
    *,
    db: Database | None = None,
    analyze_queue: AnalyzeJobQueue | None = None,
    inference: InferenceClient | None = None,
    secrets: SecretStore | None = None,
    gateways: GatewayFactory | None = None,
    lifecycle_queue: LifecycleQueue | None = None,
    media_queue: MediaJobQueue | None = None,
    objects: ObjectStore | None = None,
    campaign_queue: CampaignQueue | None = None,
    clock: Clock | None = None,
) -> FunctionsContainer:
    settings = resolve_secrets(settings or Settings.from_env())
    secrets = secret_store(settings, secrets)
    if db is None:
        if not settings.database_url:
            raise RuntimeError("DATABASE_URL is not set")
        db = Database(settings.database_url, max_size=4)
    if analyze_queue is None and settings.analyze_queue_url:
        analyze_queue = SqsAnalyzeQueue(settings.analyze_queue_url)
    if lifecycle_queue is None and settings.lifecycle_queue_url:
        lifecycle_queue = SqsLifecycleQueue(settings.lifecycle_queue_url)
    if campaign_queue is None and settings.campaign_queue_url:
        campaign_queue = SqsCampaignQueue(settings.campaign_queue_url)
    analyze = AnalyzeService(
        store=PgAnalysisStore(db),
        inference=inference or build_inference(settings, secrets),
        fast=LeiaFastLabeler(),
        queue=analyze_queue,
        breaker=Breaker(failure_threshold=settings.breaker_failures, reset_after=settings.breaker_reset_seconds),
        retry=RetryPolicy(base_delay_seconds=settings.analyze_retry_base_seconds),
        lifecycle=lifecycle_queue,
    )
    gateways = gateways or gateway_factory_from_settings(
        settings, secrets or PowertoolsSecretStore(), PgDiagnosticsLog(db)
    )
    sessions = SessionService(store=PgSessionStore(db), gateways=gateways)
    lifecycle_store = PgLifecycleStore(db)
    lifecycle = LifecycleService(lifecycle_store, queue=lifecycle_queue)
    # automatic messages: the agents' outbox and gateway path, as the service
    sending = SendService(
        store=PgSendStore(db),
        gateways=gateways,
        suggestions=PgSuggestions(db),
        resend_after_seconds=settings.send_resend_after_seconds,
        on_sent=None,
    )
    if media_queue is None and settings.media_queue_url:
        media_queue = SqsMediaQueue(settings.media_queue_url)
    objects = objects or object_store(settings)
    media = MediaService(store=objects, records=PgMediaRecords(db), gateways=gateways) if objects is not None else None
    return FunctionsContainer(
        settings=settings,
        db=db,
        ingest=IngestService(
            PgIngestStore(db),
            analyze_queue,
            sessions=sessions,
            lifecycle_queue=lifecycle_queue,
            media_queue=media_queue,
            campaign_queue=campaign_queue,
        ),
        analyze=analyze,
        sessions=sessions,
        privacy=privacy_service(db, settings, secrets, media),
        media=media,
        diagnostics=DiagnosticsService(PgDiagnosticsReader(db), retention_days=settings.diagnostics_retention_days),
        lifecycle=lifecycle,
        automation=AutomationService(
            lifecycle_store, lifecycle, sender=OutboxAutomaticSender(sending), alerts=PgAlertStore(db)
        ),
        ingest_failures=IngestFailures(
            quarantine=PgQuarantineStore(db), privacy=PgPrivacySettings(db), is_data_error=is_data_error
        ),
        campaigns=build_campaigns(db, settings, secrets, gateways, queue=campaign_queue, clock=clock),
    )


@dataclass
class CampaignFunctions:
    sender: CampaignSender
    replies: CampaignReplies


def build_campaigns(
    db: Database,
    settings: Settings,
    secrets: SecretStore | None,
    gateways: GatewayFactory,
    *,
    queue: CampaignQueue | None,
    clock: Clock | None,
) -> CampaignFunctions | None:
    """The campaign sender and the reply/opt-out handler; None without a campaign queue or without
    the audit key (opt-outs are kept as keyed hashes: nothing is sent when they cannot be checked)."""
    hasher = phone_hasher(settings, secrets)
    if queue is None or hasher is None:
        return None
    sends, replies, opt_outs = PgCampaignSendStore(db), PgReplyStore(db), PgOptOutStore(db)
    timing = SenderTiming(
        tick_seconds=settings.campaign_tick_seconds,
        time_scale=settings.campaign_time_scale,
        stale_seconds=settings.campaign_stale_seconds,
    )
    pacer = InstancePacer(sends, clock=clock, time_scale=settings.campaign_time_scale)
    # the agents' outbox and send path, with each call paced on its instance
    sending = SendService(
        store=PgSendStore(db),
        gateways=PacedGateways(gateways, pacer),
        suggestions=PgSuggestions(db),
        resend_after_seconds=settings.send_resend_after_seconds,
    )
    sender = CampaignSender(
        sends, sending, queue, pacer=pacer, opt_outs=opt_outs, replies=replies, hasher=hasher, clock=clock,
        timing=timing, rewriter=build_rewriter(settings, secrets),
    )  # fmt: skip
    return CampaignFunctions(sender=sender, replies=CampaignReplies(replies, opt_outs, sends, sending, hasher))
