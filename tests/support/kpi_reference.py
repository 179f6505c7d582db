"""The reference the rollups are checked against: the operations report as it was computed before
them (commit f2cc91e), in one statement over every ``conversation_events`` row of the period
(materialized once: totals, percentiles, days, hours and agents from the same rows), under the
caller's RLS. Kept verbatim but for these names: what it answers is what the report must answer."""

from __future__ import annotations

from typing import Any

from ponte.adapters.postgres.db import Database
from ponte.adapters.postgres.lifecycle import PROTOCOL_TIME_ZONE
from ponte.adapters.postgres.reports import breakdowns, side_figures
from ponte.domain.kpis import Durations, KpiFilters, KpiReport
from ponte.ports.lifecycle import Claims
from ponte.ports.reports import KpiQuery, ReportStore

_FILTERS = {
    "first_response": "kind = 'first_response'",
    "reply": "kind = 'reply'",
    "resolution": "kind = 'transition' and action = 'resolve' and value_seconds is not null",
    "queue_wait": "kind = 'transition' and action = 'assign' and from_state = 'waiting' and value_seconds is not null",
}
_OPENED = "kind = 'transition' and action in ('open', 'reopen')"
_RESOLVED = "kind = 'transition' and action = 'resolve'"


def _durations(name: str, where: str) -> str:
    return (
        f"count(*) filter (where {where}) as {name}_count,"
        f" avg(value_seconds) filter (where {where}) as {name}_avg,"
        f" percentile_cont(array[0.5, 0.9, 0.95]) within group (order by value_seconds) filter (where {where})"
        f"   as {name}_wall,"
        f" percentile_cont(array[0.5, 0.9]) within group (order by business_seconds) filter (where {where})"
        f"   as {name}_business"
    )


KPI_SQL = f"""
with e as materialized (
  select kind, action, from_state, to_state, actor_type, agent_id, value_seconds, business_seconds, sla_due_at,
    occurred_at, (occurred_at at time zone %(tz)s) as local_at
  from public.conversation_events
  where tenant_id = %(tenant)s and occurred_at >= %(from)s and occurred_at < %(to)s
    and (%(team)s::uuid is null or team_id = %(team)s::uuid)
    and (%(agent)s::uuid is null or agent_id = %(agent)s::uuid)
    and (%(instance)s::uuid is null or instance_id = %(instance)s::uuid)
)
select
  (select row_to_json(t) from (select
     count(*) filter (where {_OPENED}) as opened,
     count(*) filter (where kind = 'transition' and action in ('route', 'transfer') and to_state = 'waiting')
       as queued,
     count(*) filter (where {_RESOLVED}) as resolved,
     count(*) filter (where {_RESOLVED} and actor_type in ('system', 'rule')) as by_automation,
     count(*) filter (where kind = 'sla_breach') as sla_breaches,
     count(*) filter (where kind = 'reply' and sla_due_at is not null and occurred_at <= sla_due_at) as sla_met,
     avg(value_seconds) filter (where kind = 'csat') as csat_average,
     count(*) filter (where kind = 'csat') as csat_count,
     {", ".join(_durations(name, where) for name, where in _FILTERS.items())}
   from e) t) as totals,
  (select coalesce(json_agg(d order by d.day), '[]'::json) from (
     select local_at::date as day, count(*) filter (where {_OPENED}) as opened,
       count(*) filter (where {_RESOLVED}) as resolved
     from e group by 1) d) as by_day,
  (select coalesce(json_agg(h order by h.hour), '[]'::json) from (
     select extract(hour from local_at)::int as hour, count(*) as opened from e where {_OPENED} group by 1) h)
    as by_hour,
  (select coalesce(json_agg(a order by a.agent_id), '[]'::json) from (
     select agent_id::text as agent_id,
       count(*) filter (where kind = 'transition' and action = 'assign') as assigned,
       count(*) filter (where {_RESOLVED}) as resolved,
       count(*) filter (where kind = 'first_response') as first_responses,
       percentile_cont(0.5) within group (order by value_seconds) filter (where kind = 'first_response')
         as first_response_p50,
       count(*) filter (where kind = 'reply') as replies,
       avg(value_seconds) filter (where kind = 'csat') as csat_average,
       (select count(*) from public.conversations c where c.tenant_id = %(tenant)s and c.assigned_to = e.agent_id
          and c.state in ('in_service', 'snoozed')) as open_now
     from e where agent_id is not null group by e.agent_id) a) as agents
"""


def _ratio(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def _durations_of(totals: dict[str, Any], name: str) -> Durations:
    wall = totals[f"{name}_wall"] or [None, None, None]
    business = totals[f"{name}_business"] or [None, None]
    return Durations(
        count=totals[f"{name}_count"],
        seconds_avg=totals[f"{name}_avg"],
        seconds_p50=wall[0],
        seconds_p90=wall[1],
        seconds_p95=wall[2],
        business_seconds_p50=business[0],
        business_seconds_p90=business[1],
    )


class EventsReportStore(ReportStore):
    def __init__(self, db: Database) -> None:
        self._db = db

    def kpis(self, claims: Claims, query: KpiQuery) -> KpiReport:
        args = {
            "tenant": query.tenant_id,
            "from": query.period_from,
            "to": query.period_to,
            "team": query.team_id,
            "agent": query.agent_id,
            "instance": query.instance_id,
            "tz": PROTOCOL_TIME_ZONE,
        }
        with self._db.as_user(claims) as conn:
            row = conn.execute(KPI_SQL, args).fetchone()
            side = side_figures(conn, args)  # not the rollups' subject: the adapter's own queries
        assert row is not None
        totals = row["totals"]
        resolved, by_automation = totals["resolved"], totals["by_automation"]
        breaches, met = totals["sla_breaches"], totals["sla_met"]
        return KpiReport(
            tenant_id=query.tenant_id,
            period_from=query.period_from,
            period_to=query.period_to,
            filters=KpiFilters(team_id=query.team_id, agent_id=query.agent_id, instance_id=query.instance_id),
            conversations_opened=totals["opened"],
            conversations_queued=totals["queued"],
            conversations_resolved=resolved,
            resolved_by_automation=by_automation,
            automation_resolution_rate=_ratio(by_automation, resolved),
            first_response=_durations_of(totals, "first_response"),
            reply=_durations_of(totals, "reply"),
            resolution=_durations_of(totals, "resolution"),
            queue_wait=_durations_of(totals, "queue_wait"),
            sla_breaches=breaches,
            sla_met=met,
            sla_breach_rate=_ratio(breaches, breaches + met),
            csat_average=round(totals["csat_average"], 4) if totals["csat_average"] is not None else None,
            csat_count=totals["csat_count"],
            **side,
            **breakdowns(row),
        )
