"""Reports (issue 17): the operations KPIs, computed from the lifecycle's events."""

from __future__ import annotations

from chalice.app import Blueprint, Response

from ponte.contract.declare import Bodies, responds
from ponte.domain.kpis import KpiReport
from proxy.http import api, json_response
from proxy.responses import ErrorBody
from proxy.runtime import caller, container

report_routes = Blueprint(__name__)

ERRORS: dict[int, Bodies] = dict.fromkeys((400, 401, 403, 500), ErrorBody)


@report_routes.route("/reports/kpis", methods=["GET"])
@api
@responds({200: KpiReport, **ERRORS}, summary="Operations KPIs of a period (owners and admins)")
def kpis() -> Response:
    """``from`` and ``to`` (ISO 8601 with a zone, at most 400 days apart), optional ``team``, ``agent``,
    ``instance`` (ids) and ``tenant_id``: first response, reply, resolution and queue-wait times (p50, p90,
    p95, average; wall clock and business hours), SLA breaches and rate, CSAT, automation share, lead
    conversion, conversations per day and per hour, and per agent."""
    request = report_routes.current_request
    claims = caller(request)
    params = dict(request.query_params or {}) if request is not None else {}
    return json_response(200, container().reports.kpis(claims, params))
