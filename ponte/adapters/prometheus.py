"""Prometheus metrics of the proxy and the functions (``GET /metrics``), with ``prometheus-client``.

Two kinds, every name prefixed ``ponte_`` and no label beyond ids and enums (never a phone, a name
or a text):
- counted in this process: webhooks by provider and outcome, ingest and lifecycle batches'
  latency (the local stack runs the proxy and the functions in one process, so one scrape sees all);
- read at scrape time (``OperationsCollector``): conversations by state, queue length and the
  oldest wait per team, SLA breaches, agents online, instances connected, and the SQS queues'
  depth -- from the database and SQS, so every process (or Lambda) reports the same truth.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

from aws_lambda_powertools.metrics import MetricUnit, single_metric
from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.registry import Collector

logger = logging.getLogger(__name__)

LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"

# the process's own registry (never the global default: tests and the worker keep theirs apart)
REGISTRY = CollectorRegistry()
WEBHOOKS = Counter("ponte_webhooks", "Webhooks by provider and outcome", ["provider", "outcome"], registry=REGISTRY)
INGEST_SECONDS = Histogram(
    "ponte_ingest_batch_seconds", "Time to store one ingest queue batch", buckets=LATENCY_BUCKETS, registry=REGISTRY
)
INGEST_MESSAGES = Counter("ponte_ingest_records", "Ingest queue records by outcome", ["outcome"], registry=REGISTRY)
LIFECYCLE_SECONDS = Histogram(
    "ponte_lifecycle_job_seconds", "Time to handle one lifecycle job", ["kind"], buckets=LATENCY_BUCKETS,
    registry=REGISTRY,
)  # fmt: skip

# On Lambda an in-process counter lives as long as one instance: the same names also go to CloudWatch
# as embedded metric format lines (Powertools; namespace Ponte), one per observation.
CLOUDWATCH_NAMESPACE = "Ponte"


def emit_cloudwatch(name: str, unit: MetricUnit, value: float, dimensions: dict[str, str] | None = None) -> None:
    """One EMF line to stdout when running on Lambda (CloudWatch extracts the metric); nothing elsewhere."""
    if not os.environ.get("AWS_LAMBDA_FUNCTION_NAME"):
        return
    with single_metric(name=name, unit=unit, value=value, namespace=CLOUDWATCH_NAMESPACE) as metric:
        for key, dimension in (dimensions or {}).items():
            metric.add_dimension(name=key, value=dimension)


def count_webhook(provider: str, outcome: str) -> None:
    WEBHOOKS.labels(provider, outcome).inc()
    emit_cloudwatch("ponte_webhooks", MetricUnit.Count, 1, {"provider": provider, "outcome": outcome})


@contextmanager
def timed(histogram: Histogram, name: str, **labels: str) -> Iterator[None]:
    """Observe the block's duration in ``histogram`` (with ``labels``) and, on Lambda, in CloudWatch."""
    started = time.perf_counter()
    try:
        yield
    finally:
        seconds = time.perf_counter() - started
        (histogram.labels(**labels) if labels else histogram).observe(seconds)
        emit_cloudwatch(name, MetricUnit.Seconds, seconds, labels or None)


_STATES = ("bot", "waiting", "in_service", "snoozed")
_CONNECTED = ("open", "connected", "isLogged", "inChat", "CONNECTED")


class OperationsCollector(Collector):
    """Gauges read at scrape time: ``rows(sql, args)`` runs a query as the service; ``queues`` gives
    (queue name, visible, in flight, delayed) per SQS queue. ``tenants``: only these (None: all)."""

    def __init__(
        self,
        rows: Callable[[str, dict[str, Any]], list[dict[str, Any]]],
        queues: Callable[[], list[tuple[str, int, int, int]]] | None = None,
        tenants: frozenset[str] | None = None,
    ) -> None:
        self._rows = rows
        self._queues = queues
        self._tenants = tenants

    def describe(self) -> Iterable[Any]:
        return []  # collected live; no registration-time query

    def collect(self) -> Iterator[Any]:
        args = {"tenants": sorted(self._tenants) if self._tenants is not None else None, "now": datetime.now(UTC)}
        scope = "(%(tenants)s::uuid[] is null or tenant_id = any(%(tenants)s::uuid[]))"
        yield from self._conversations(scope, args)
        yield from self._queues_by_team(scope, args)
        yield from self._breaches(scope, args)
        yield from self._agents(scope, args)
        yield from self._instances(scope, args)
        yield from self._sqs()

    def _conversations(self, scope: str, args: dict[str, Any]) -> Iterator[Any]:
        family = GaugeMetricFamily("ponte_conversations", "Open conversations by lifecycle state",
                                   labels=["tenant_id", "state"])  # fmt: skip
        for row in self._rows(
            f"select tenant_id::text, state, count(*) as n from public.conversations where state <> 'resolved'"
            f" and {scope} group by 1, 2",
            args,
        ):
            family.add_metric([row["tenant_id"], row["state"]], row["n"])
        yield family

    def _queues_by_team(self, scope: str, args: dict[str, Any]) -> Iterator[Any]:
        length = GaugeMetricFamily("ponte_queue_conversations", "Conversations waiting in a team's queue",
                                   labels=["tenant_id", "team_id"])  # fmt: skip
        oldest = GaugeMetricFamily("ponte_queue_oldest_wait_seconds", "The longest wait in a team's queue",
                                   labels=["tenant_id", "team_id"])  # fmt: skip
        for row in self._rows(
            "select tenant_id::text, coalesce(team_id::text, 'none') as team_id, count(*) as n,"
            " extract(epoch from %(now)s - min(queued_at)) as oldest"
            f" from public.conversations where state = 'waiting' and {scope} group by 1, 2",
            args,
        ):
            length.add_metric([row["tenant_id"], row["team_id"]], row["n"])
            oldest.add_metric([row["tenant_id"], row["team_id"]], float(row["oldest"] or 0))
        yield length
        yield oldest

    def _breaches(self, scope: str, args: dict[str, Any]) -> Iterator[Any]:
        family = CounterMetricFamily("ponte_sla_breaches", "SLAs that broke (once per due time)", labels=["tenant_id"])
        for row in self._rows(
            f"select tenant_id::text, count(*) as n from public.conversation_events where kind = 'sla_breach'"
            f" and {scope} group by 1",
            args,
        ):
            family.add_metric([row["tenant_id"]], row["n"])
        yield family

    def _agents(self, scope: str, args: dict[str, Any]) -> Iterator[Any]:
        family = GaugeMetricFamily("ponte_agents", "Members by presence", labels=["tenant_id", "status"])
        for row in self._rows(
            "select p.tenant_id::text, case when p.last_seen_at > %(now)s - make_interval(secs => coalesce("
            "   (s.settings ->> 'presence_ttl_seconds')::int, 90)) then p.status else 'offline' end as status,"
            " count(*) as n from public.agent_presence p"
            " left join public.operations_settings s on s.tenant_id = p.tenant_id"
            f" where {scope.replace('tenant_id', 'p.tenant_id')} group by 1, 2",
            args,
        ):
            family.add_metric([row["tenant_id"], row["status"]], row["n"])
        yield family

    def _instances(self, scope: str, args: dict[str, Any]) -> Iterator[Any]:
        family = GaugeMetricFamily("ponte_instance_up", "1 when the WhatsApp instance is connected",
                                   labels=["tenant_id", "instance_id", "provider"])  # fmt: skip
        for row in self._rows(
            f"select tenant_id::text, id::text, provider, status from public.whatsapp_instances where {scope}", args
        ):
            family.add_metric(
                [row["tenant_id"], row["id"], row["provider"]], 1.0 if row["status"] in _CONNECTED else 0.0
            )
        yield family

    def _sqs(self) -> Iterator[Any]:
        if self._queues is None:
            return
        depth = GaugeMetricFamily("ponte_sqs_messages", "Messages in an SQS queue", labels=["queue", "state"])
        try:
            for name, visible, in_flight, delayed in self._queues():
                depth.add_metric([name, "visible"], visible)
                depth.add_metric([name, "in_flight"], in_flight)
                depth.add_metric([name, "delayed"], delayed)
        except Exception:  # SQS down: the other series still answer
            logger.warning("queue depth not available")
        yield depth


def exposition(extra: Collector | None = None) -> bytes:
    """The text exposition of the process's counters and, when given, the live collector."""
    if extra is None:
        return generate_latest(REGISTRY)
    registry = CollectorRegistry()
    registry.register(extra)
    return generate_latest(REGISTRY) + generate_latest(registry)


def sqs_depths(client: Any, urls: dict[str, str]) -> Callable[[], list[tuple[str, int, int, int]]]:
    """Reads each queue's approximate counts (``GetQueueAttributes``) at scrape time."""

    def read() -> list[tuple[str, int, int, int]]:
        found = []
        for name, url in sorted(urls.items()):
            attributes = client.get_queue_attributes(
                QueueUrl=url,
                AttributeNames=[
                    "ApproximateNumberOfMessages",
                    "ApproximateNumberOfMessagesNotVisible",
                    "ApproximateNumberOfMessagesDelayed",
                ],
            )["Attributes"]
            found.append((
                name,
                int(attributes.get("ApproximateNumberOfMessages", 0)),
                int(attributes.get("ApproximateNumberOfMessagesNotVisible", 0)),
                int(attributes.get("ApproximateNumberOfMessagesDelayed", 0)),
            ))  # fmt: skip
        return found

    return read
