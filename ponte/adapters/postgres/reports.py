"""The operations report in one statement under the caller's RLS (migration 20261207070000):

* counts -- totals, ``by_day``, ``by_hour``, the agents' -- from the daily rollups for the period's
  whole São Paulo days, and from the events themselves (``private.kpi_event_counts``: the same
  definitions) for the partial days at either end;
* durations -- count, average and exact percentiles -- from the values stored on the events, one
  partial covering index per measure (the filters below are those indexes' predicates);

lead conversion from ``leads``, alerts from ``ops_alerts``."""

from __future__ import annotations

from typing import Any

import psycopg
from psycopg.rows import dict_row

from ponte.adapters.postgres.db import Database
from ponte.domain.kpis import (
    AgentKpis,
    AlertCounts,
    CampaignKpis,
    DayCount,
    Durations,
    HourCount,
    KpiFilters,
    KpiReport,
)
from ponte.ports.lifecycle import Claims
from ponte.ports.reports import KpiQuery, ReportStore

# the measures' events: each predicate is its partial index's
MEASURES = {
    "first_response": "kind = 'first_response'",
    "reply": "kind = 'reply'",
    "resolution": "kind = 'transition' and action = 'resolve' and value_seconds is not null",
    "queue_wait": "kind = 'transition' and action = 'assign' and from_state = 'waiting' and value_seconds is not null",
}
_COUNTS = (
    "events", "opened", "queued", "resolved", "resolved_by_automation", "assigned", "first_responses", "replies",
    "sla_breaches", "sla_met", "csat_count", "csat_rated", "csat_sum",
)  # fmt: skip


def _filters(alias: str) -> str:
    return (
        f" and (%(team)s::uuid is null or {alias}.team_id = %(team)s::uuid)"
        f" and (%(agent)s::uuid is null or {alias}.agent_id = %(agent)s::uuid)"
        f" and (%(instance)s::uuid is null or {alias}.instance_id = %(instance)s::uuid)"
    )


# the period's ends that are not whole days: [from, head_to) and [tail_from, to)
_EDGES = (
    "c.occurred_at >= %(from)s and c.occurred_at < %(head_to)s",
    "c.occurred_at >= %(tail_from)s and c.occurred_at < %(to)s",
)
_EVENT_COUNTS = (
    "c.day, c.agent_id, 1 as events, c.opened, c.queued, c.resolved, c.resolved_by_automation, c.assigned,"
    " c.first_responses, c.replies, c.sla_breaches, c.sla_met, c.csat_count, (c.csat_value is not null)::int,"
    " coalesce(c.csat_value, 0)"
)


def _durations(name: str, where: str) -> str:
    return (
        f"(select row_to_json(d) from (select count(*) as count, avg(e.value_seconds) as seconds_avg,"
        f"   percentile_cont(array[0.5, 0.9, 0.95]) within group (order by e.value_seconds) as wall,"
        f"   percentile_cont(array[0.5, 0.9]) within group (order by e.business_seconds) as business"
        f" from public.conversation_events e where e.tenant_id = %(tenant)s and {where}"
        f"   and e.occurred_at >= %(from)s and e.occurred_at < %(to)s{_filters('e')}) d) as {name}"
    )


# the period's whole São Paulo days [d0, d1] (none when d0 > d1), and where its partial ends stop
# and start: [from, head_to) and [tail_from, to); sent as constants, so each end is an index range
BOUNDS_SQL = """
select d0, d1,
  case when d0 <= d1 then private.kpi_day_start(d0) else %(to)s end as head_to,
  case when d0 <= d1 then private.kpi_day_start(d1 + 1) else %(to)s end as tail_from
from (select private.kpi_day(%(from)s - interval '1 microsecond') + 1 as d0, private.kpi_day(%(to)s) - 1 as d1) p
"""

KPI_SQL = f"""
with counts as materialized (
  select r.day, r.agent_id, {", ".join(f"r.{c}" for c in _COUNTS)}
  from public.kpi_daily r
  where r.tenant_id = %(tenant)s and r.day between %(d0)s and %(d1)s{_filters("r")}
  union all
  select {_EVENT_COUNTS} from private.kpi_event_counts c
  where c.tenant_id = %(tenant)s and {_EDGES[0]}{_filters("c")}
  union all
  select {_EVENT_COUNTS} from private.kpi_event_counts c
  where c.tenant_id = %(tenant)s and {_EDGES[1]}{_filters("c")}
),
opened_hours as (
  select h.hour, h.opened from public.kpi_hourly_opened h
  where h.tenant_id = %(tenant)s and h.day between %(d0)s and %(d1)s{_filters("h")}
  union all
  select c.hour, c.opened from private.kpi_event_counts c
  where c.tenant_id = %(tenant)s and c.opened > 0 and {_EDGES[0]}{_filters("c")}
  union all
  select c.hour, c.opened from private.kpi_event_counts c
  where c.tenant_id = %(tenant)s and c.opened > 0 and {_EDGES[1]}{_filters("c")}
),
first_responses as materialized (
  select e.agent_id, percentile_cont(0.5) within group (order by e.value_seconds) as p50
  from public.conversation_events e where e.tenant_id = %(tenant)s and {MEASURES["first_response"]}
    and e.agent_id is not null and e.occurred_at >= %(from)s and e.occurred_at < %(to)s{_filters("e")}
  group by e.agent_id
)
select
  (select row_to_json(t) from (select {", ".join(f"coalesce(sum({c}), 0) as {c}" for c in _COUNTS)}
   from counts) t) as totals,
  (select coalesce(json_agg(d order by d.day), '[]'::json) from (
     select day, sum(opened) as opened, sum(resolved) as resolved from counts group by day) d) as by_day,
  (select coalesce(json_agg(h order by h.hour), '[]'::json) from (
     select hour, sum(opened) as opened from opened_hours group by hour) h) as by_hour,
  (select coalesce(json_agg(a order by a.agent_id), '[]'::json) from (
     select k.agent_id::text as agent_id, sum(k.assigned) as assigned, sum(k.resolved) as resolved,
       sum(k.first_responses) as first_responses, sum(k.replies) as replies,
       sum(k.csat_sum) / nullif(sum(k.csat_rated), 0) as csat_average,
       (select f.p50 from first_responses f where f.agent_id = k.agent_id) as first_response_p50,
       (select count(*) from public.conversations c where c.tenant_id = %(tenant)s and c.assigned_to = k.agent_id
          and c.state in ('in_service', 'snoozed')) as open_now
     from counts k where k.agent_id is not null group by k.agent_id) a) as agents,
  {", ".join(_durations(name, where) for name, where in MEASURES.items())}
"""

_LEADS = """
select count(*) as created, count(*) filter (where l.status = 'won') as won
from public.leads l
where l.tenant_id = %(tenant)s and l.created_at >= %(from)s and l.created_at < %(to)s
  and (%(instance)s::uuid is null
       or l.conversation_id in (select c.id from public.conversations c where c.instance_id = %(instance)s::uuid))
"""


_ALERTS = """
select kind, count(*) as n from public.ops_alerts
where tenant_id = %(tenant)s and raised_at >= %(from)s and raised_at < %(to)s
  and (%(instance)s::uuid is null or instance_id = %(instance)s::uuid)
group by kind
"""


# campaign recipients with anything in the period; a failed send counts when it was last touched
_CAMPAIGNS = """
with r as (
  select r.sent_at >= %(from)s and r.sent_at < %(to)s as sent_in, r.status, r.message_id, r.reply_lead_id,
    r.replied_at >= %(from)s and r.replied_at < %(to)s as replied_in,
    r.opted_out_at >= %(from)s and r.opted_out_at < %(to)s as opted_out_in,
    r.status = 'failed' and r.updated_at >= %(from)s and r.updated_at < %(to)s as failed_in
  from public.campaign_recipients r
  where r.tenant_id = %(tenant)s
    and (%(instance)s::uuid is null
         or r.campaign_id in (select c.id from public.campaigns c where c.instance_id = %(instance)s::uuid))
    and ((r.sent_at >= %(from)s and r.sent_at < %(to)s) or (r.replied_at >= %(from)s and r.replied_at < %(to)s)
         or (r.opted_out_at >= %(from)s and r.opted_out_at < %(to)s)
         or (r.status = 'failed' and r.updated_at >= %(from)s and r.updated_at < %(to)s))
)
select count(*) filter (where sent_in) as sent,
  count(*) filter (where sent_in and m.status in ('delivered', 'read', 'played')) as delivered,
  count(*) filter (where sent_in and m.status in ('read', 'played')) as read,
  count(*) filter (where failed_in) as failed,
  count(*) filter (where replied_in) as replied,
  count(*) filter (where opted_out_in) as opted_out,
  count(*) filter (where replied_in and r.reply_lead_id is not null) as leads_created
from r left join public.messages m on m.id = r.message_id
"""


def _ratio(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def _campaign_kpis(conn: psycopg.Connection[Any], args: dict[str, Any]) -> CampaignKpis:
    row = conn.execute(_CAMPAIGNS, args).fetchone()
    assert row is not None
    return CampaignKpis(**row, reply_rate=_ratio(row["replied"], row["sent"]))


def side_figures(conn: psycopg.Connection[Any], args: dict[str, Any]) -> dict[str, Any]:
    """The report's figures read from their own tables, not from the lifecycle events: leads,
    alerts and campaigns of the period (KpiReport fields)."""
    leads = conn.execute(_LEADS, args).fetchone()
    assert leads is not None
    alerts = {r["kind"]: r["n"] for r in conn.execute(_ALERTS, args).fetchall()}
    return {
        "leads_created": leads["created"],
        "leads_won": leads["won"],
        "lead_conversion_rate": _ratio(leads["won"], leads["created"]),
        "alerts": AlertCounts(**{kind: alerts.get(kind, 0) for kind in AlertCounts.model_fields}),
        "campaigns": _campaign_kpis(conn, args),
    }


def breakdowns(row: dict[str, Any]) -> dict[str, Any]:
    """By day, by hour and by agent (KpiReport fields) from the report statement's JSON columns."""
    return {
        "by_day": [
            DayCount(day=d["day"], conversations_opened=d["opened"], conversations_resolved=d["resolved"])
            for d in row["by_day"]
        ],
        "by_hour": [HourCount(hour=h["hour"], conversations_opened=h["opened"]) for h in row["by_hour"]],
        "agents": [
            AgentKpis(
                agent_id=a["agent_id"],
                assigned=a["assigned"],
                resolved=a["resolved"],
                first_responses=a["first_responses"],
                first_response_seconds_p50=a["first_response_p50"],
                replies=a["replies"],
                csat_average=a["csat_average"],
                open_conversations_now=a["open_now"],
            )
            for a in row["agents"]
        ],
    }


def _durations_of(measured: dict[str, Any]) -> Durations:
    wall = measured["wall"] or [None, None, None]
    business = measured["business"] or [None, None]
    return Durations(
        count=measured["count"],
        seconds_avg=measured["seconds_avg"],
        seconds_p50=wall[0],
        seconds_p90=wall[1],
        seconds_p95=wall[2],
        business_seconds_p50=business[0],
        business_seconds_p90=business[1],
    )


def kpi_params(conn: psycopg.Connection[Any], query: KpiQuery) -> dict[str, Any]:
    """The report's parameters: the query's, and its period's whole days and partial ends."""
    args = {
        "tenant": query.tenant_id,
        "from": query.period_from,
        "to": query.period_to,
        "team": query.team_id,
        "agent": query.agent_id,
        "instance": query.instance_id,
    }
    bounds = conn.cursor(row_factory=dict_row).execute(BOUNDS_SQL, args).fetchone()
    assert bounds is not None
    return {**args, **bounds}


class PgReportStore(ReportStore):
    def __init__(self, db: Database) -> None:
        self._db = db

    def kpis(self, claims: Claims, query: KpiQuery) -> KpiReport:
        with self._db.as_user(claims) as conn:
            # JIT would compile the statement on every call: ~40 ms before, ~1 s with these many subplans,
            # for a query that runs in ~0.2 s
            conn.execute("set local jit = off")
            # planned for these values every time (a pooled connection prepares a statement it runs
            # often; a generic plan would not know how short the period's partial ends are)
            conn.execute("set local plan_cache_mode = force_custom_plan")
            args = kpi_params(conn, query)
            row = conn.execute(KPI_SQL, args).fetchone()
            side = side_figures(conn, args)
        assert row is not None
        totals = row["totals"]
        resolved, by_automation = totals["resolved"], totals["resolved_by_automation"]
        breaches, met = totals["sla_breaches"], totals["sla_met"]
        csat_average = totals["csat_sum"] / totals["csat_rated"] if totals["csat_rated"] else None
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
            first_response=_durations_of(row["first_response"]),
            reply=_durations_of(row["reply"]),
            resolution=_durations_of(row["resolution"]),
            queue_wait=_durations_of(row["queue_wait"]),
            sla_breaches=breaches,
            sla_met=met,
            sla_breach_rate=_ratio(breaches, breaches + met),
            csat_average=round(csat_average, 4) if csat_average is not None else None,
            csat_count=totals["csat_count"],
            **side,
            **breakdowns(row),
        )
