"""``GET /metrics``: Prometheus' text format (``ponte.adapters.prometheus``), for a scraper holding the
metrics token or an owner's / admin's JWT (their tenants only); 401 without."""

from __future__ import annotations

from chalice.app import Blueprint, Response

from ponte.adapters.prometheus import CONTENT_TYPE
from ponte.contract.declare import Bodies, responds
from proxy.http import api
from proxy.responses import ErrorBody, MetricsText
from proxy.runtime import container

metrics_routes = Blueprint(__name__)

ERRORS: dict[int, Bodies] = dict.fromkeys((401, 403, 500), ErrorBody)


@metrics_routes.route("/metrics", methods=["GET"])
@api
@responds({200: MetricsText, **ERRORS}, auth="metrics", media_type=CONTENT_TYPE, summary="Prometheus metrics")
def metrics() -> Response:
    """Conversations by state, queues and their oldest wait, SLA breaches, agents by presence, instances
    up, SQS depth, webhooks by outcome, ingest and lifecycle latency; names prefixed ``ponte_``."""
    request = metrics_routes.current_request
    authorization = request.headers.get("authorization") if request is not None else None
    body = container().metrics.scrape(authorization)
    return Response(body=body.decode(), status_code=200, headers={"Content-Type": CONTENT_TYPE})
