"""Queue-driven functions as a Chalice app: thin handlers over the services.

SQS handlers use Powertools' BatchProcessor: each record succeeds or fails on its
own and the response lists the failures (ReportBatchItemFailures is set in infra).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from chalice.app import Chalice, CloudWatchEvent, Rate, SQSEvent

from functions.bootstrap import CampaignFunctions, FunctionsContainer, bootstrap
from ponte import constants as c
from ponte.adapters.logs import make_logger
from ponte.adapters.prometheus import INGEST_MESSAGES, INGEST_SECONDS, LIFECYCLE_SECONDS, timed
from ponte.domain.analyze_job import AnalyzeJob
from ponte.domain.campaign_job import CampaignJob
from ponte.domain.envelope import IngestEnvelope, decode_envelopes
from ponte.domain.hidden import PurgeRequest, SweepResult
from ponte.domain.lifecycle_job import LifecycleJob
from ponte.domain.media import MediaJob
from ponte.services.privacy import PrivacyService

app = Chalice(app_name="ponte-functions", configure_logs=False)  # Powertools logs under this name
logger = make_logger("ponte-functions")

INGEST_QUEUE = os.environ.get(c.INGEST_QUEUE_NAME_ENV, c.DEFAULT_INGEST_QUEUE)
INGEST_BULK_QUEUE = os.environ.get(c.INGEST_BULK_QUEUE_NAME_ENV, c.DEFAULT_INGEST_BULK_QUEUE)
ANALYZE_QUEUE = os.environ.get(c.ANALYZE_QUEUE_NAME_ENV, c.DEFAULT_ANALYZE_QUEUE)
PURGE_QUEUE = os.environ.get(c.PURGE_QUEUE_NAME_ENV, c.DEFAULT_PURGE_QUEUE)
LIFECYCLE_QUEUE = os.environ.get(c.LIFECYCLE_QUEUE_NAME_ENV, c.DEFAULT_LIFECYCLE_QUEUE)
MEDIA_QUEUE = os.environ.get(c.MEDIA_QUEUE_NAME_ENV, c.DEFAULT_MEDIA_QUEUE)
CAMPAIGN_QUEUE = os.environ.get(c.CAMPAIGN_QUEUE_NAME_ENV, c.DEFAULT_CAMPAIGN_QUEUE)
PURGE_RATE_MINUTES = int(os.environ.get(c.PURGE_RATE_MINUTES_ENV, c.DEFAULT_PURGE_RATE_MINUTES))

_container: FunctionsContainer | None = None


def container() -> FunctionsContainer:
    global _container  # noqa: PLW0603
    if _container is None:
        _container = bootstrap()
    return _container


def set_container(value: FunctionsContainer | None) -> None:
    global _container  # noqa: PLW0603
    _container = value


def ingest_record(record: SQSRecord) -> None:
    """One queue message: the envelopes of one webhook. An envelope whose data cannot be stored is
    quarantined (``IngestFailures``) and the rest go on; any other failure retries the message,
    whose envelopes already stored are then no-ops (dedupe key)."""
    services = container()
    for envelope in decode_envelopes(record.body):
        try:
            services.ingest.handle(envelope)
        except Exception as exc:
            if services.ingest_failures is None or not services.ingest_failures.absorb(envelope, exc):
                raise


def ingest_batch(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """The Lambda-shaped entry: an SQS event in, ``{"batchItemFailures": [...]}`` out.

    The batch is one unit of work per tenant (``IngestService.handle_batch``: one transaction).
    When a tenant's unit fails, its records are stored one by one (``ingest_record``): a record
    whose data fails is then quarantined, any other failing record alone is reported for retry,
    and its neighbours commit without it."""
    with timed(INGEST_SECONDS, "ponte_ingest_batch_seconds"):
        result = _ingest_batch(event)
    INGEST_MESSAGES.labels("retried").inc(len(result["batchItemFailures"]))
    INGEST_MESSAGES.labels("handled").inc(len(event.get("Records") or []) - len(result["batchItemFailures"]))
    return result


def _ingest_batch(event: dict[str, Any]) -> dict[str, Any]:
    records: list[dict[str, Any]] = list(event.get("Records") or [])
    services = container()
    by_tenant: dict[str, list[tuple[dict[str, Any], list[IngestEnvelope]]]] = {}
    alone: list[dict[str, Any]] = []
    for raw in records:
        try:
            envelopes = decode_envelopes(raw["body"])
        except Exception:  # undecodable: the per-record path reports (or absorbs) it
            alone.append(raw)
            continue
        tenants = {envelope.tenant_id for envelope in envelopes}
        if len(tenants) != 1:
            alone.append(raw)
            continue
        by_tenant.setdefault(tenants.pop(), []).append((raw, envelopes))
    for tenant_id, group in by_tenant.items():
        try:
            services.ingest.handle_batch(tenant_id, [envelope for _, envelopes in group for envelope in envelopes])
        except Exception:
            logger.warning("ingest batch failed: its records are stored one by one", extra={"records": len(group)})
            alone.extend(raw for raw, _ in group)
    failures: list[dict[str, str]] = []
    for raw in alone:
        try:
            ingest_record(SQSRecord(raw))
        except Exception as exc:
            logger.warning("ingest record failed", extra={"error": type(exc).__name__})
            failures.append({"itemIdentifier": raw["messageId"]})
    return {"batchItemFailures": failures}


# No batching window: Lambda would hold a message up to the window while it gathers a batch, and the
# inbox waits for it (webhook -> realtime p95 < 150 ms). Under load its pollers fill batches of 10
# anyway; the bulk lane (history syncs) keeps a window, no one watches it live.
@app.on_sqs_message(queue=INGEST_QUEUE, batch_size=10)
def ingest(event: SQSEvent) -> dict[str, Any]:
    return ingest_batch(event.to_dict(), event.context)


@app.on_sqs_message(queue=INGEST_BULK_QUEUE, batch_size=10, maximum_batching_window_in_seconds=1)
def ingest_bulk(event: SQSEvent) -> dict[str, Any]:
    """The bulk lane (``ponte.services.lanes``): the same ingest, at a bounded concurrency."""
    return ingest_batch(event.to_dict(), event.context)


def each_record(event: dict[str, Any], context: Any, handler: Callable[[SQSRecord], None]) -> dict[str, Any]:
    """Every record of an SQS batch through ``handler``; the ones that raised are reported in
    ``batchItemFailures`` (Powertools' partial batch response) and only they are redelivered."""
    response = process_partial_response(
        event=event, record_handler=handler, processor=BatchProcessor(EventType.SQS), context=context
    )
    return dict(response)


def analyze_record(record: SQSRecord) -> None:
    job = AnalyzeJob.model_validate_json(record.body)
    outcome = container().analyze.handle(job)
    logger.info(
        "analyze",
        extra={
            "status": outcome.status,
            "reason": outcome.reason,
            "attempt": job.attempt,
            "message_id": job.message_id,
        },
    )


def analyze_batch(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return each_record(event, context, analyze_record)


# Small batches: each record may wait on the worker, and the batch shares one Lambda timeout.
@app.on_sqs_message(queue=ANALYZE_QUEUE, batch_size=2, maximum_batching_window_in_seconds=1)
def analyze(event: SQSEvent) -> dict[str, Any]:
    return analyze_batch(event.to_dict(), event.context)


def media_record(record: SQSRecord) -> None:
    job = MediaJob.model_validate_json(record.body)
    services = container()
    if services.media is None:
        raise RuntimeError("media jobs need the media bucket (PONTE_MEDIA_BUCKET)")
    outcome = services.media.fetch(job)
    logger.info("media", extra={"outcome": outcome, "message_id": job.message_id})


def media_batch(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return each_record(event, context, media_record)


# A file per record, up to 100 MB: one at a time.
@app.on_sqs_message(queue=MEDIA_QUEUE, batch_size=1)
def media(event: SQSEvent) -> dict[str, Any]:
    """Fetch a received media message's file into the media bucket (pending -> stored | too_large | failed)."""
    return media_batch(event.to_dict(), event.context)


def media_trash_handler(event: dict[str, Any], context: Any) -> dict[str, int]:
    services = container()
    deleted = services.media.empty_trash() if services.media is not None else 0
    logger.info("media trash", extra={"deleted": deleted})
    return {"deleted": deleted}


@app.schedule(Rate(15, unit=Rate.MINUTES))
def media_trash(event: CloudWatchEvent) -> dict[str, int]:
    """The bucket objects of deleted rows (purged contacts) are deleted; the purge itself empties it too."""
    return media_trash_handler(event.to_dict(), event.context)


def privacy() -> PrivacyService:
    service = container().privacy
    if service is None:
        raise RuntimeError("the purge needs the audit hash key (secret store or PONTE_AUDIT_HASH_KEY)")
    return service


def log_sweep(result: SweepResult, actor: str) -> None:
    """Counts only: never a number, a subject or content."""
    logger.info("privacy sweep", extra={"actor": actor, "subjects": result.subjects, "deleted": result.deleted.counts})


def purge_record(record: SQSRecord) -> None:
    request = PurgeRequest.model_validate_json(record.body)
    result = privacy().sweep(request.tenant_id, actor="queue")
    log_sweep(result, "queue")


def purge_batch(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """On-demand purge: each queue message sweeps one tenant's hidden contacts (or every tenant's)."""
    return each_record(event, context, purge_record)


@app.on_sqs_message(queue=PURGE_QUEUE, batch_size=1)
def purge(event: SQSEvent) -> dict[str, Any]:
    return purge_batch(event.to_dict(), event.context)


def scheduled_purge_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    result = privacy().sweep(actor="schedule")
    log_sweep(result, "schedule")
    return {"subjects": result.subjects, "deleted": result.deleted.total}


@app.schedule(Rate(PURGE_RATE_MINUTES, unit=Rate.MINUTES))
def scheduled_purge(event: CloudWatchEvent) -> dict[str, Any]:
    """Every few minutes: purge what in-flight queue messages stored for contacts hidden since."""
    return scheduled_purge_handler(event.to_dict(), event.context)


@app.schedule(Rate(1, unit=Rate.HOURS))
def diagnostics_cleanup(event: CloudWatchEvent) -> dict[str, int]:
    """Keeps the diagnostics log to its retention (30 days unless PONTE_DIAGNOSTICS_RETENTION_DAYS)."""
    deleted = container().diagnostics.purge()
    logger.info("diagnostics cleanup", extra={"deleted": deleted})
    return {"deleted": deleted}


@app.schedule(Rate(1, unit=Rate.HOURS))
def pending_changes_expiry(event: CloudWatchEvent) -> dict[str, int]:
    """Acks, revokes and edits that overtook a message that never came are dropped after a day."""
    expired = container().ingest.expire_pending()
    logger.info("pending changes expired", extra=expired)
    return expired


@app.schedule(Rate(5, unit=Rate.MINUTES))
def session_checks(event: CloudWatchEvent) -> dict[str, str]:
    """A status check of every instance: feeds the session recovery when no event came."""
    results = container().sessions.check_all()
    logger.info("session checks", extra={"instances": len(results)})
    return results


def lifecycle_record(record: SQSRecord) -> None:
    job = LifecycleJob.model_validate_json(record.body)
    with timed(LIFECYCLE_SECONDS, "ponte_lifecycle_job_seconds", kind=job.kind):
        outcome = container().automation.handle(job)
    logger.info("lifecycle", extra={"kind": job.kind, "outcome": outcome, "conversation_id": job.conversation_id})


def lifecycle_batch(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return each_record(event, context, lifecycle_record)


@app.on_sqs_message(queue=LIFECYCLE_QUEUE, batch_size=10, maximum_batching_window_in_seconds=1)
def lifecycle(event: SQSEvent) -> dict[str, Any]:
    """The conversation lifecycle's automation: open / reopen / wake, CSAT answers, routing,
    automatic assignment and automatic messages (``ponte.services.automation``)."""
    return lifecycle_batch(event.to_dict(), event.context)


def lifecycle_timers_handler(event: dict[str, Any], context: Any) -> dict[str, int]:
    result = container().automation.run_timers()
    logger.info("lifecycle timers", extra=result)
    return result


@app.schedule(Rate(1, unit=Rate.MINUTES))
def lifecycle_timers(event: CloudWatchEvent) -> dict[str, int]:
    """Every minute: snoozes that ended, conversations automation could not route, expired
    heartbeats, and the automatic-assignment sweep."""
    return lifecycle_timers_handler(event.to_dict(), event.context)


def campaigns() -> CampaignFunctions:
    found = container().campaigns
    if found is None:
        raise RuntimeError("campaigns need the campaign queue and the audit hash key")
    return found


def campaign_record(record: SQSRecord) -> None:
    """One campaign job: a recipient's send (``CampaignSender.handle_send``), or newly stored inbound
    messages to attribute as replies and read for opt-outs (``CampaignReplies.handle``)."""
    job = CampaignJob.model_validate_json(record.body)
    services = campaigns()
    if job.kind == "send":
        outcome = services.sender.handle_send(job)
        logger.info("campaign send", extra={"outcome": outcome, "campaign_id": job.campaign_id})
    else:
        counts = services.replies.handle(job)
        logger.info("campaign inbound", extra=counts)


def campaign_batch(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return each_record(event, context, campaign_record)


# One job per invocation: a send may wait in-process for its slot (up to 30 s).
@app.on_sqs_message(queue=CAMPAIGN_QUEUE, batch_size=1)
def campaign(event: SQSEvent) -> dict[str, Any]:
    """Campaign sends (one job per recipient, its idempotency key) and replies / opt-outs."""
    return campaign_batch(event.to_dict(), event.context)


def campaign_tick_handler(event: dict[str, Any], context: Any) -> dict[str, int]:
    result = campaigns().sender.tick()
    if result:
        logger.info("campaign tick", extra=result)
    return result


@app.schedule(Rate(1, unit=Rate.MINUTES))
def campaign_tick(event: CloudWatchEvent) -> dict[str, int]:
    """Every minute: the next slots of running campaigns (outside quiet hours), lost jobs again,
    finished campaigns completed, progress counts refreshed (and broadcast)."""
    return campaign_tick_handler(event.to_dict(), event.context)
