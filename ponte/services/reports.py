"""The operations report: the period and filters checked (400 with a machine code), owners and
admins only (an agent's performance is their manager's to read)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta

from ponte.domain.kpis import KpiReport
from ponte.ports.lifecycle import Claims
from ponte.ports.reports import KpiQuery, ReportStore
from ponte.services.exceptions import BadRequestError
from ponte.services.operations import OperationsService
from ponte.services.paging import id_param, time_param

MAX_PERIOD = timedelta(days=400)


class ReportService:
    def __init__(self, store: ReportStore, operations: OperationsService) -> None:
        self._store = store
        self._operations = operations

    def kpis(self, claims: Claims, params: Mapping[str, str]) -> KpiReport:
        start, end = time_param(params, "from"), time_param(params, "to")
        if start is None or end is None:
            raise BadRequestError("from and to are required (ISO 8601 with a time zone)", code="invalid_period")
        if end <= start or end - start > MAX_PERIOD:
            raise BadRequestError("to must come after from, at most 400 days later", code="invalid_period")
        tenant = self._operations.tenant(claims, params.get("tenant_id"), admin=True)
        query = KpiQuery(
            tenant_id=tenant,
            period_from=start,
            period_to=end,
            team_id=id_param(params.get("team"), "team"),
            agent_id=id_param(params.get("agent"), "agent"),
            instance_id=id_param(params.get("instance"), "instance"),
        )
        return self._store.kpis(claims, query)
