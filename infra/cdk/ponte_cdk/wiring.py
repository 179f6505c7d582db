"""What each deployed function may touch: queues, secrets, timeouts. One table, read by the stack.

Handlers are discovered from the Chalice apps (see ``discovery``), so a new
``@app.on_sqs_message`` or ``@app.schedule`` is deployed without editing this
file. What it may do beyond its defaults (consume its own queue, read the
database URL) is decided here, by the queue it consumes or by its name.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from ponte import constants as c


@dataclass(frozen=True)
class QueueSpec:
    key: str
    chalice_name: str  # what handlers pass to ``@app.on_sqs_message(queue=...)``
    url_env: str  # the env var that carries the queue URL to senders
    # Lambda's cap on concurrent invocations by this queue's event source (None: the account's).
    max_concurrency: int | None = None


QUEUES = (
    QueueSpec("ingest", c.DEFAULT_INGEST_QUEUE, c.INGEST_QUEUE_URL_ENV),
    QueueSpec("analyze", c.DEFAULT_ANALYZE_QUEUE, c.ANALYZE_QUEUE_URL_ENV),
    QueueSpec("purge", c.DEFAULT_PURGE_QUEUE, c.PURGE_QUEUE_URL_ENV),
    # Webhooks with many events: drained at most two at a time, so the live lane keeps the database.
    QueueSpec("bulk", c.DEFAULT_INGEST_BULK_QUEUE, c.INGEST_BULK_QUEUE_URL_ENV, max_concurrency=2),
    # The conversation lifecycle and its automation, after ingest, analyze and agents' resolutions.
    QueueSpec("lifecycle", c.DEFAULT_LIFECYCLE_QUEUE, c.LIFECYCLE_QUEUE_URL_ENV),
    # Received media files to fetch into the media bucket: a few at a time (files of up to 100 MB).
    QueueSpec("media", c.DEFAULT_MEDIA_QUEUE, c.MEDIA_QUEUE_URL_ENV, max_concurrency=5),
    # Campaign sends (a job per recipient, paced per instance by the database) and the inbound
    # messages they watch for replies and opt-outs: ten at a time is plenty for throttled sends.
    QueueSpec("campaign", c.DEFAULT_CAMPAIGN_QUEUE, c.CAMPAIGN_QUEUE_URL_ENV, max_concurrency=10),
)

MAX_RECEIVE_COUNT = 5
# AWS's guidance for Lambda consumers: visibility timeout at least 6x the function timeout
# (plus the batching window), so a retried batch never overlaps a still-running one.
VISIBILITY_FACTOR = 6

# Secret keys (see ``secrets``). GATEWAY is the per-instance prefix, not one secret.
DATABASE_URL = "database_url"
APP = "app"  # jwt_secret and audit_hash_key: every function builds the privacy service with the latter
WORKER_TOKEN = "worker_token"
GATEWAY = "gateway"


@dataclass(frozen=True)
class Needs:
    """What one Lambda function needs; everything not listed is denied."""

    secrets: frozenset[str] = frozenset({DATABASE_URL, APP})
    sends_to: frozenset[str] = frozenset()
    timeout_seconds: int = 30
    memory_mb: int = 512
    # the media bucket: "read", "write" and / or "delete" of its objects
    bucket: frozenset[str] = frozenset()

    def merged(self, other: Needs) -> Needs:
        return replace(
            self,
            secrets=self.secrets | other.secrets,
            sends_to=self.sends_to | other.sends_to,
            bucket=self.bucket | other.bucket,
            timeout_seconds=max(self.timeout_seconds, other.timeout_seconds),
            memory_mb=max(self.memory_mb, other.memory_mb),
        )


# The proxy's single Lambda (API Gateway proxy integration; API Gateway gives up at 29 s).
# It reads the app secret (Supabase JWT secret), holds the gateway credentials (send,
# status, QR), enqueues webhooks for ingest and hide requests for purge.
PROXY_NEEDS = Needs(
    secrets=frozenset({DATABASE_URL, APP, GATEWAY}),
    sends_to=frozenset({"ingest", "bulk", "purge", "lifecycle"}),
    timeout_seconds=28,
    memory_mb=1024,
    # signed download URLs and upload forms, the uploads it sends, the objects a hide purges
    bucket=frozenset({"read", "write", "delete"}),
)

# Consumers, by the queue they consume. Ingest enqueues analysis jobs; analyze calls
# the worker (bearer token) and re-enqueues the full analysis when the worker was down.
NEEDS_BY_QUEUE: dict[str, Needs] = {
    "ingest": Needs(sends_to=frozenset({"analyze", "lifecycle", "media", "campaign"}), timeout_seconds=30),
    "bulk": Needs(sends_to=frozenset({"analyze", "lifecycle", "media", "campaign"}), timeout_seconds=30),
    "analyze": Needs(
        secrets=frozenset({DATABASE_URL, APP, WORKER_TOKEN}),
        sends_to=frozenset({"analyze", "lifecycle"}),
        timeout_seconds=90,
    ),
    "purge": Needs(timeout_seconds=120, bucket=frozenset({"delete"})),
    # automatic messages (greeting, queue position, CSAT) go out through the gateways
    "lifecycle": Needs(secrets=frozenset({DATABASE_URL, APP, GATEWAY}), timeout_seconds=60),
    # the gateway's file (its credentials), then the bucket
    "media": Needs(
        secrets=frozenset({DATABASE_URL, APP, GATEWAY}),
        timeout_seconds=120,
        memory_mb=1024,
        bucket=frozenset({"write"}),
    ),
    # a send waits in-process for its slot (up to 30 s), then calls the gateway; a busy instance
    # re-queues it (delayed); the opt-out confirmation goes out from here too
    "campaign": Needs(
        secrets=frozenset({DATABASE_URL, APP, GATEWAY}), sends_to=frozenset({"campaign"}), timeout_seconds=90
    ),
}

# Scheduled handlers (purge sweep, diagnostics cleanup) and any handler named here.
SCHEDULED_NEEDS = Needs(timeout_seconds=120)
NEEDS_BY_HANDLER: dict[str, Needs] = {
    # the lifecycle's timers route and assign, and a routed conversation may get its queue position
    "lifecycle_timers": Needs(secrets=frozenset({GATEWAY})),
    # the sweeps that delete a purged contact's files from the media bucket
    "scheduled_purge": Needs(bucket=frozenset({"delete"})),
    "media_trash": Needs(bucket=frozenset({"delete"})),
    # the campaign tick plans slots and enqueues the send jobs (it never sends itself)
    "campaign_tick": Needs(sends_to=frozenset({"campaign"})),
}


@dataclass(frozen=True)
class StackSettings:
    """Per-deployment values, from CDK context (``cdk deploy -c key=value``)."""

    stage: str = "prod"
    worker_url: str = ""
    alarm_email: str = ""
    jwks_url: str = ""
    extra_env: dict[str, str] = field(default_factory=dict)
    # the web inboxes' origins allowed to post uploads to the media bucket (CORS); none: same-origin only
    web_origins: tuple[str, ...] = ()
