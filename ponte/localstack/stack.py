"""The local stack: everything on one machine, no cloud account, no Docker.

PostgreSQL (compat layer + migrations + demo data), a local SQS endpoint with the
queues and DLQs, the proxy over HTTP, and a poller feeding the queue-driven
functions in Lambda's event shape.
"""

from __future__ import annotations

import json
import os
import secrets
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from chalice.config import Config
from chalice.local import CustomLocalChalice, LocalChalice, LocalDevServer

import functions.app as functions_app
import proxy.app as proxy_app
import proxy.runtime as proxy_runtime
from functions.bootstrap import bootstrap as functions_bootstrap
from ponte import constants as c
from ponte.adapters.postgres.db import Database
from ponte.adapters.postgres.migrate import migrate
from ponte.adapters.secrets import (
    AUDIT_HASH_KEY,
    GATEWAY_API_KEY,
    JWT_SECRET,
    METRICS_TOKEN,
    WEBHOOK_SECRET,
    WORKER_TOKEN,
    PowertoolsSecretStore,
    put_secret,
)
from ponte.adapters.sqs import SqsAnalyzeQueue, SqsCampaignQueue, SqsLifecycleQueue, SqsMediaQueue
from ponte.adapters.tenant_keys import DEEPLINK_KEY, tenant_secret_name
from ponte.domain.analyze_job import AnalyzeJob
from ponte.domain.campaign_job import CampaignJob
from ponte.domain.cloud import ACCESS_TOKEN, APP_SECRET, GRAPH_BASE_URL, VERIFY_TOKEN, WABA_ID
from ponte.domain.lifecycle_job import LifecycleJob
from ponte.domain.media import MediaJob
from ponte.domain.realtime import tenant_admin_topic, tenant_topic
from ponte.localstack.clock import ControllableClock
from ponte.localstack.inbox_site import DEFAULT_DIST, INBOX_PATH, InboxSite
from ponte.localstack.jwt_tokens import mint_token
from ponte.localstack.local_gateway import LOCAL_GATEWAY_PREFIX, LocalGateway
from ponte.localstack.log import logger
from ponte.localstack.pgcluster import PgCluster, free_port
from ponte.localstack.poller import QueuePoller
from ponte.localstack.proxy_http import ProxyHTTPServer, request_handler
from ponte.localstack.realtime import RealtimeServer
from ponte.localstack.seed import Seeded, seed_demo
from ponte.localstack.sqs import (
    LOCAL_CREDENTIALS,
    LOCAL_REGION,
    MEDIA_BUCKET,
    MotoServer,
    create_bucket,
    create_queues,
    s3_client,
    secretsmanager_client,
    sqs_client,
)
from ponte.localstack.supervisor import Child, Supervisor
from ponte.localstack.worker import WorkerProcess, worker_installed
from ponte.ports.analysis import AnalyzeJobQueue
from ponte.ports.campaigns import CampaignQueue
from ponte.ports.lifecycle import LifecycleQueue
from ponte.ports.media import MediaJobQueue
from ponte.settings import Settings
from ponte.wiring import ingest_queue
from proxy.bootstrap import bootstrap as proxy_bootstrap

DEFAULT_STATE_DIR = Path(os.environ.get("PONTE_STATE_DIR", ".ponte"))
APP_SECRET_NAME = "ponte/local/app"
CLOUD_SECRET_PREFIX = "ponte/local/cloud/"
DEMO_WABA_ID = "100000000000009"
# campaigns plan their sends every second locally (every minute on AWS)
LOCAL_CAMPAIGN_TICK_SECONDS = 1.0


class SkippedFollowUps(AnalyzeJobQueue, LifecycleQueue, MediaJobQueue, CampaignQueue):
    """``ponte up --ingest-only``: the jobs that follow a stored message (analysis, lifecycle,
    media, campaign replies) are counted, never sent -- their consumers are other Lambdas on AWS,
    and here they would share the machine with the ingest path being measured. Campaigns do not
    run in this mode."""

    def __init__(self) -> None:
        self.skipped = 0

    def enqueue(self, job: AnalyzeJob | MediaJob, *, delay_seconds: int = 0) -> None:
        self.skipped += 1

    def publish(
        self, jobs: Sequence[LifecycleJob] | Sequence[CampaignJob], *, delays: Sequence[int] | None = None
    ) -> None:
        self.skipped += len(jobs)


@dataclass
class LocalSecrets:
    jwt_secret: str
    demo_webhook_secret: str
    audit_hash_key: str
    worker_token: str
    demo_gateway_api_key: str
    demo_deeplink_key: str
    metrics_token: str
    demo_cloud_verify_token: str
    demo_cloud_app_secret: str
    demo_cloud_access_token: str

    @classmethod
    def load_or_create(cls, state_dir: Path) -> LocalSecrets:
        """Generated on first start (and any field an older file lacks); kept in a mode-600 file."""
        path = state_dir / "local-secrets.json"
        known = json.loads(path.read_text()) if path.exists() else {}
        sizes = {
            "jwt_secret": 48,
            "demo_webhook_secret": 24,
            "audit_hash_key": 32,
            "worker_token": 32,
            "demo_gateway_api_key": 24,
            "demo_deeplink_key": 32,
            "metrics_token": 32,
            "demo_cloud_verify_token": 24,
            "demo_cloud_app_secret": 32,
            "demo_cloud_access_token": 48,
        }
        values = {name: known.get(name) or secrets.token_urlsafe(size) for name, size in sizes.items()}
        if values != known:
            state_dir.mkdir(parents=True, exist_ok=True)
            path.write_text(json.dumps(values))
            path.chmod(0o600)
        return cls(**values)

    def app_secret(self) -> dict[str, str]:
        return {
            JWT_SECRET: self.jwt_secret,
            AUDIT_HASH_KEY: self.audit_hash_key,
            WORKER_TOKEN: self.worker_token,
            METRICS_TOKEN: self.metrics_token,
        }

    def gateway_secret(self) -> dict[str, str]:
        return {GATEWAY_API_KEY: self.demo_gateway_api_key, WEBHOOK_SECRET: self.demo_webhook_secret}

    def cloud_secret(self, graph_base_url: str | None) -> dict[str, str]:
        """The demo Cloud API instance's credentials, as a real one keeps them in the secret store."""
        value = {
            APP_SECRET: self.demo_cloud_app_secret,
            VERIFY_TOKEN: self.demo_cloud_verify_token,
            ACCESS_TOKEN: self.demo_cloud_access_token,
            WABA_ID: DEMO_WABA_ID,
        }
        return value | ({GRAPH_BASE_URL: graph_base_url} if graph_base_url else {})


@dataclass
class LocalStack:
    state_dir: Path = DEFAULT_STATE_DIR
    database_url: str | None = None
    proxy_port: int = 0
    realtime_port: int = 0
    keep_data: bool = True
    host: str = "127.0.0.1"
    # settings on top of the stack's own (the worker's URL and token, breaker and retry timings)
    overrides: dict[str, Any] = field(default_factory=dict)
    # start the inference worker (when its extra is installed and no worker_url is given)
    run_worker: bool = False
    # start the fake WhatsApp gateway and wire the local instances to it
    run_fake_gateway: bool = True
    # seconds between the fake gateway's echo and acks of a send
    ack_interval: float = 0.7
    # concurrent receivers of the ingest queue (Lambda's concurrency on a busy queue)
    ingest_receivers: int = 2
    # True: messages are stored without their follow-up jobs (benchmarks of the ingest path alone)
    ingest_only: bool = False
    # the proxy's request lines on stderr (``ponte up --verbose``)
    verbose: bool = False
    # restart a child that dies (moto, the worker, realtime, the pollers, the fake gateway, the proxy)
    supervise: bool = True
    # the reference web inbox's build (`make inbox`), served under /inbox on the proxy's port
    inbox_dist: Path = DEFAULT_DIST
    supervisor: Supervisor | None = field(default=None, init=False)
    gateway: LocalGateway | None = field(default=None, init=False)
    worker: WorkerProcess | None = field(default=None, init=False)
    pg: PgCluster | None = field(default=None, init=False)
    moto: MotoServer | None = field(default=None, init=False)
    db: Database | None = field(default=None, init=False)
    demo: Seeded | None = field(default=None, init=False)
    queue_urls: dict[str, str] = field(default_factory=dict, init=False)
    started_in: float = field(default=0.0, init=False)
    realtime: RealtimeServer | None = field(default=None, init=False)
    _server: LocalDevServer | None = field(default=None, init=False)
    _proxy_thread: threading.Thread | None = field(default=None, init=False)
    _pollers: list[QueuePoller] = field(default_factory=list, init=False)
    _schedule_stop: threading.Event = field(default_factory=threading.Event, init=False)
    _schedule: threading.Thread | None = field(default=None, init=False)
    _timers: threading.Thread | None = field(default=None, init=False)
    # how often the lifecycle's timers run (snooze expiry, presence expiry, assignment sweep)
    lifecycle_timer_seconds: float = 60.0
    # the campaign sender's and the campaign routes' wall clock (tests move it: quiet hours)
    clock: ControllableClock = field(default_factory=ControllableClock)
    # threads receiving from the campaign queue (a job may wait for its slot in-process)
    campaign_receivers: int = 2
    _campaign_tick: threading.Thread | None = field(default=None, init=False)

    @property
    def proxy_url(self) -> str:
        return f"http://{self.host}:{self.proxy_port}"

    @property
    def inbox_url(self) -> str:
        """The reference web inbox; ``<inbox_url>#access_token=<JWT>`` signs in."""
        return f"{self.proxy_url}{INBOX_PATH}"

    def inbox_built(self) -> bool:
        return InboxSite(realtime_url="", anon_key="", dist=self.inbox_dist).built()

    @property
    def dsn(self) -> str:
        if self.database_url:
            return self.database_url
        assert self.pg is not None
        return self.pg.url

    def start(self) -> LocalStack:
        started = time.monotonic()
        self.state_dir.mkdir(parents=True, exist_ok=True)
        self.secrets = LocalSecrets.load_or_create(self.state_dir)
        self.database_url = self.database_url or os.environ.get(c.DATABASE_URL_ENV)
        if not self.database_url:
            self.pg = PgCluster(self.state_dir.resolve() / "pgdata", fsync=self.keep_data).start()
        migrate(self.dsn)
        import psycopg

        with psycopg.connect(self.dsn) as conn:
            self.demo = seed_demo(conn, self.secrets.demo_webhook_secret)
        self.realtime = RealtimeServer(
            self.dsn, self.secrets.jwt_secret, host=self.host, port=self.realtime_port
        ).start()
        self.realtime_port = self.realtime.port
        self.moto = MotoServer().start()
        self.sqs = sqs_client(self.moto.url)
        self.queue_urls = create_queues(self.sqs)
        self.s3 = s3_client(self.moto.url)
        create_bucket(self.s3)
        self._export_aws_env()
        self._start_worker()
        self._put_secrets()
        # The JWT secret, the audit key and the worker token are read from the secret store
        # (moto here, Secrets Manager in production) through Powertools, not passed as values.
        self.settings = Settings(
            database_url=self.dsn,
            ingest_queue_url=self.queue_urls[c.DEFAULT_INGEST_QUEUE],
            ingest_bulk_queue_url=self.queue_urls[c.DEFAULT_INGEST_BULK_QUEUE],
            analyze_queue_url=self.queue_urls[c.DEFAULT_ANALYZE_QUEUE],
            purge_queue_url=self.queue_urls[c.DEFAULT_PURGE_QUEUE],
            lifecycle_queue_url=self.queue_urls[c.DEFAULT_LIFECYCLE_QUEUE],
            media_queue_url=self.queue_urls[c.DEFAULT_MEDIA_QUEUE],
            media_bucket=MEDIA_BUCKET,
            s3_public_endpoint=self.moto.url,
            campaign_queue_url=self.queue_urls[c.DEFAULT_CAMPAIGN_QUEUE],
            app_secret_name=APP_SECRET_NAME,
            **{"campaign_tick_seconds": LOCAL_CAMPAIGN_TICK_SECONDS, **self.overrides},
        )
        skipped = SkippedFollowUps() if self.ingest_only else None
        campaign_queue = skipped or SqsCampaignQueue(self.queue_urls[c.DEFAULT_CAMPAIGN_QUEUE], self.sqs)
        store = PowertoolsSecretStore(max_age=self.settings.secrets_max_age, client=self.secretsmanager)
        self.db = Database(self.dsn, max_size=16)
        proxy_runtime.set_container(
            proxy_bootstrap(
                self.settings,
                db=self.db,
                queue=ingest_queue(self.settings, self.sqs),
                secrets=store,
                lifecycle_queue=SqsLifecycleQueue(self.queue_urls[c.DEFAULT_LIFECYCLE_QUEUE], self.sqs),
                clock=self.clock,
            )
        )
        functions_app.set_container(
            functions_bootstrap(
                self.settings,
                db=self.db,
                analyze_queue=skipped or SqsAnalyzeQueue(self.settings.analyze_queue_url or "", self.sqs),
                secrets=store,
                lifecycle_queue=skipped or SqsLifecycleQueue(self.queue_urls[c.DEFAULT_LIFECYCLE_QUEUE], self.sqs),
                media_queue=skipped or SqsMediaQueue(self.settings.media_queue_url or "", self.sqs),
                campaign_queue=campaign_queue,
                clock=self.clock,
            )
        )
        self._start_proxy()
        if self.run_fake_gateway:
            self.gateway = LocalGateway(
                self.db,
                self.secretsmanager,
                self.state_dir,
                self.proxy_url,
                known={self.demo.instance_id: (self.secrets.demo_gateway_api_key, self.secrets.demo_webhook_secret)},
                ack_interval=self.ack_interval,
                on_secret_change=self.settings_changed,
            ).start()
            self._wire_cloud()
        for queue, handler, receivers in (
            (c.DEFAULT_INGEST_QUEUE, functions_app.ingest, self.ingest_receivers),
            (c.DEFAULT_INGEST_BULK_QUEUE, functions_app.ingest_bulk, 2),  # the bulk lane's MaximumConcurrency
            (c.DEFAULT_ANALYZE_QUEUE, functions_app.analyze, 0 if self.ingest_only else 1),
            (c.DEFAULT_PURGE_QUEUE, functions_app.purge, 1),
            (c.DEFAULT_LIFECYCLE_QUEUE, functions_app.lifecycle, 0 if self.ingest_only else 1),
            (c.DEFAULT_MEDIA_QUEUE, functions_app.media, 0 if self.ingest_only else 1),
            (c.DEFAULT_CAMPAIGN_QUEUE, functions_app.campaign, 0 if self.ingest_only else self.campaign_receivers),
        ):
            if not receivers:
                continue
            self._pollers.append(
                QueuePoller(
                    sqs_client(self.moto.url),
                    self.queue_urls[queue],
                    handler,
                    function_name=queue.removeprefix("ponte-"),
                    receivers=receivers,
                ).start()
            )
        self._schedule = threading.Thread(target=self._run_schedule, name="purge-schedule", daemon=True)
        self._schedule.start()
        self._timers = threading.Thread(target=self._run_lifecycle_timers, name="lifecycle-timers", daemon=True)
        self._timers.start()
        if not self.ingest_only:
            self._campaign_tick = threading.Thread(target=self._run_campaign_tick, name="campaign-tick", daemon=True)
            self._campaign_tick.start()
        if self.supervise:
            self.supervisor = Supervisor(self._children(), logger).start()
        self.started_in = time.monotonic() - started
        self._write_state()
        return self

    def _wire_cloud(self) -> None:
        """The demo Cloud API number on the fake gateway's Graph API, its statuses signed back to the proxy."""
        assert self.gateway is not None and self.demo is not None and self.db is not None
        number = self.gateway.fake.cloud(
            self.demo.cloud_phone_number_id,
            access_token=self.secrets.demo_cloud_access_token,
            app_secret=self.secrets.demo_cloud_app_secret,
            waba_id=DEMO_WABA_ID,
        )
        number.webhook_url = self.cloud_webhook_url()
        with self.db.as_service(self.demo.tenant_id) as conn:
            conn.execute(
                "update public.whatsapp_instances set gateway_base_url = %s where id = %s",
                (self.gateway.fake.graph_url, self.demo.cloud_instance_id),
            )

    def _children(self) -> list[Child]:
        """What the supervisor watches, each with how to bring it back."""
        assert self.moto is not None
        children = [Child("moto (SQS, Secrets Manager)", self.moto.alive, self._restart_moto, self.moto.exit_reason)]
        if self.worker is not None:
            children.append(Child("inference worker", self.worker.alive, self.worker.start, self.worker.exit_reason))
        children.append(Child("realtime server", self._realtime_alive, self._restart_realtime))
        children.append(Child("proxy HTTP server", self._proxy_alive, self._serve_proxy))
        if self.gateway is not None:
            children.append(Child("fake gateway", self.gateway.fake.alive, self.gateway.fake.start))
        children += [Child(f"{p.function_name} poller", p.alive, p.start) for p in self._pollers]
        return children

    def _realtime_alive(self) -> bool:
        return self.realtime is not None and self.realtime.alive()

    def _proxy_alive(self) -> bool:
        return self._proxy_thread is not None and self._proxy_thread.is_alive()

    def _restart_moto(self) -> None:
        """moto keeps everything in memory: its queues and secrets are made again (on the same port)."""
        assert self.moto is not None
        self.moto.start()
        create_queues(self.sqs)
        create_bucket(self.s3)
        self._put_secrets()
        if self.gateway is not None:
            self.gateway.wire(again=True)

    def _restart_realtime(self) -> None:
        if self.realtime is not None:
            self.realtime.stop()
        self.realtime = RealtimeServer(
            self.dsn, self.secrets.jwt_secret, host=self.host, port=self.realtime_port
        ).start()

    def _start_worker(self) -> None:
        if not self.run_worker or "worker_url" in self.overrides or not worker_installed():
            return
        # the worker gets its token in its environment; the functions read it from the secret store
        self.worker = WorkerProcess(self.secrets.worker_token, self.state_dir / "worker.log").start()
        self.overrides = {**self.overrides, "worker_url": self.worker.url}

    def _put_secrets(self) -> None:
        """The stack's secrets into the local secret store, as production keeps them in Secrets Manager."""
        assert self.moto is not None and self.demo is not None
        self.secretsmanager = secretsmanager_client(self.moto.url)
        put_secret(self.secretsmanager, APP_SECRET_NAME, self.secrets.app_secret())
        tenant_prefix = self.overrides.get("tenant_secret_prefix", c.DEFAULT_TENANT_SECRET_PREFIX)
        put_secret(
            self.secretsmanager,
            tenant_secret_name(tenant_prefix, self.demo.tenant_id),
            {DEEPLINK_KEY: self.secrets.demo_deeplink_key},
        )
        gateway_name = f"{LOCAL_GATEWAY_PREFIX}{self.demo.instance_id}"
        put_secret(self.secretsmanager, gateway_name, self.secrets.gateway_secret())
        cloud_name = f"{CLOUD_SECRET_PREFIX}{self.demo.cloud_instance_id}"
        put_secret(self.secretsmanager, cloud_name, self.secrets.cloud_secret(None))
        import psycopg

        with psycopg.connect(self.dsn) as conn:
            conn.execute(
                "update public.whatsapp_instances set credentials_secret_name = %s where id = %s",
                (gateway_name, self.demo.instance_id),
            )
            conn.execute(
                "update public.whatsapp_instances set credentials_secret_name = %s, status = 'connected' where id = %s",
                (cloud_name, self.demo.cloud_instance_id),
            )

    def _run_schedule(self) -> None:
        """Chalice's ``@app.schedule`` locally: the purge sweep every PONTE_PURGE_RATE_MINUTES."""
        interval = functions_app.PURGE_RATE_MINUTES * 60
        while not self._schedule_stop.wait(interval):
            try:
                functions_app.scheduled_purge_handler({}, None)
                functions_app.media_trash_handler({}, None)
            except Exception:  # keep the schedule going, as EventBridge would
                functions_app.logger.exception("scheduled purge failed")

    def _run_lifecycle_timers(self) -> None:
        """The lifecycle's ``@app.schedule`` (every minute on AWS; ``lifecycle_timer_seconds`` here)."""
        while not self._schedule_stop.wait(self.lifecycle_timer_seconds):
            try:
                functions_app.lifecycle_timers_handler({}, None)
            except Exception:  # keep the schedule going, as EventBridge would
                functions_app.logger.exception("lifecycle timers failed")

    def _run_campaign_tick(self) -> None:
        """The campaign sender's ``@app.schedule`` (every minute on AWS; PONTE_CAMPAIGN_TICK_SECONDS here)."""
        while not self._schedule_stop.wait(self.settings.campaign_tick_seconds):
            try:
                functions_app.campaign_tick_handler({}, None)
            except Exception:  # keep the schedule going, as EventBridge would
                functions_app.logger.exception("campaign tick failed")

    def pollers(self, function_name: str) -> list[QueuePoller]:
        """The poller of one function (its receivers are its threads)."""
        return [p for p in self._pollers if p.function_name == function_name]

    def _export_aws_env(self) -> None:
        """Adapters that build their own boto3 clients reach the local endpoint too."""
        assert self.moto is not None
        os.environ["AWS_ENDPOINT_URL"] = self.moto.url
        os.environ.setdefault("AWS_DEFAULT_REGION", LOCAL_REGION)
        os.environ.setdefault("AWS_ACCESS_KEY_ID", LOCAL_CREDENTIALS["aws_access_key_id"])
        os.environ.setdefault("AWS_SECRET_ACCESS_KEY", LOCAL_CREDENTIALS["aws_secret_access_key"])

    def _start_proxy(self) -> None:
        self.proxy_port = self.proxy_port or free_port()
        if not isinstance(proxy_app.app, LocalChalice):  # what create_local_server does, once per process
            CustomLocalChalice.__bases__ = (LocalChalice, proxy_app.app.__class__)
            proxy_app.app.__class__ = CustomLocalChalice
        assert self.realtime is not None
        site = InboxSite(realtime_url=self.realtime.url, anon_key=self.anon_key(), dist=self.inbox_dist)
        handler = request_handler(verbose=self.verbose, site=site)
        self._server = LocalDevServer(
            proxy_app.app, Config(), self.host, self.proxy_port, handler_cls=handler, server_cls=ProxyHTTPServer
        )
        self._serve_proxy()

    def _serve_proxy(self) -> None:
        assert self._server is not None
        self._proxy_thread = threading.Thread(target=self._server.server.serve_forever, name="proxy-http", daemon=True)
        self._proxy_thread.start()

    def settings_changed(self, instance_id: str | None = None) -> None:
        """An instance's secret or signing changed outside the proxy (SQL, the local gateway): its
        cached record goes now instead of within ``settings_cache_seconds``."""
        proxy_runtime.container().instances.invalidate(instance_id)

    def demo_token(self, ttl_seconds: int = 3600) -> str:
        assert self.demo is not None
        return mint_token(
            self.secrets.jwt_secret,
            sub=self.demo.user_id,
            email=self.demo.user_email,
            ttl_seconds=ttl_seconds,
        )

    def anon_key(self) -> str:
        """The local project's anon key (what Supabase clients pass as ``apikey``)."""
        return mint_token(self.secrets.jwt_secret, sub=None, role="anon", aud="anon", ttl_seconds=10 * 365 * 86400)

    @property
    def supabase_url(self) -> str:
        """The URL official Supabase clients take; only its realtime part is served locally."""
        assert self.realtime is not None
        return self.realtime.url

    def webhook_url(self) -> str:
        assert self.demo is not None
        return f"{self.proxy_url}/webhooks/{self.demo.provider}/{self.demo.instance_id}"

    def cloud_webhook_url(self) -> str:
        """What the Meta app's webhook set-up points at (one URL for every number of the app)."""
        assert self.demo is not None
        return f"{self.proxy_url}/webhooks/cloud/{self.demo.cloud_instance_id}"

    def _write_state(self) -> None:
        assert self.demo is not None
        state: dict[str, Any] = {
            "proxy_url": self.proxy_url,
            "inbox_url": self.inbox_url,
            "tenant_id": self.demo.tenant_id,
            "instance_id": self.demo.instance_id,
            "webhook_url": self.webhook_url(),
            "database_url": self.dsn,
            "sqs_endpoint": self.moto.url if self.moto else None,
            "supabase_url": self.supabase_url,
            "realtime_url": self.realtime.websocket_url if self.realtime else None,
            "anon_key": self.anon_key(),
            "worker_url": self.worker.url if self.worker else None,
            "gateway_url": self.gateway.url if self.gateway else None,
            "topics": {"tenant": tenant_topic(self.demo.tenant_id), "admin": tenant_admin_topic(self.demo.tenant_id)},
            "demo": {**self.demo.__dict__, "cloud_webhook_url": self.cloud_webhook_url()},
        }
        path = self.state_dir / "stack.json"
        path.write_text(json.dumps(state, indent=2))

    def stop(self) -> None:
        if self.supervisor is not None:  # nothing is restarted while the stack stops
            self.supervisor.stop()
            self.supervisor = None
        self._schedule_stop.set()
        if self._schedule is not None:  # a sweep under way finishes before the services it uses stop
            self._schedule.join(timeout=30)
            self._schedule = None
        if self._timers is not None:
            self._timers.join(timeout=30)
            self._timers = None
        if self._campaign_tick is not None:
            self._campaign_tick.join(timeout=30)
            self._campaign_tick = None
        if self.gateway is not None:
            self.gateway.stop()
            self.gateway = None
        for poller in self._pollers:
            poller.stop()
        self._pollers.clear()
        if self._server is not None:
            self._server.server.shutdown()
            self._server.server.server_close()
            self._server = None
        proxy_runtime.set_container(None)
        functions_app.set_container(None)
        if self.realtime is not None:
            self.realtime.stop()
            self.realtime = None
        if self.db is not None:
            self.db.close()
            self.db = None
        if self.worker is not None:
            self.worker.stop()
            self.worker = None
        if self.moto is not None:
            self.moto.stop()
        if self.pg is not None:
            self.pg.stop()
