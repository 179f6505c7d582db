"""The operations report (``GET /reports/kpis``): what support managers read, computed from the
lifecycle's events. Every duration is in seconds, on the wall clock and in business hours (the
conversation's schedule; equal to the wall clock where none applies)."""

from __future__ import annotations

from datetime import date, datetime

from pydantic import BaseModel, ConfigDict


class Report(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Durations(Report):
    """A duration's distribution over the period: ``count`` measurements."""

    count: int
    seconds_avg: float | None
    seconds_p50: float | None
    seconds_p90: float | None
    seconds_p95: float | None
    business_seconds_p50: float | None
    business_seconds_p90: float | None


class DayCount(Report):
    day: date  # the tenant's local day (America/Sao_Paulo)
    conversations_opened: int
    conversations_resolved: int


class HourCount(Report):
    hour: int  # 0-23, local time
    conversations_opened: int


class AgentKpis(Report):
    agent_id: str
    assigned: int
    resolved: int
    first_responses: int
    first_response_seconds_p50: float | None
    replies: int
    csat_average: float | None
    open_conversations_now: int  # held in service or snoozed when the report was made


class AlertCounts(Report):
    """Alerts raised in the period (each raised once; not filtered by team or agent)."""

    sla_warning: int
    sla_breached: int
    queue_long: int
    negative_spike: int
    instance_disconnected: int


class CampaignKpis(Report):
    """Campaign results in the period (by instance with ``instance``; not split by team or agent):
    messages ``sent`` in it, of which ``delivered`` and ``read`` by now; sends that ``failed``;
    ``replied`` (replies attributed within the reply window), ``opted_out`` and the
    ``leads_created`` by those replies, counted when they happened."""

    sent: int
    delivered: int
    read: int
    failed: int
    replied: int
    opted_out: int
    leads_created: int
    reply_rate: float | None  # replied / sent


class KpiFilters(Report):
    team_id: str | None
    agent_id: str | None
    instance_id: str | None


class KpiReport(Report):
    tenant_id: str
    period_from: datetime
    period_to: datetime
    filters: KpiFilters
    conversations_opened: int  # cycles started (first messages and reopenings)
    conversations_queued: int  # routed or transferred into a team's queue
    conversations_resolved: int
    resolved_by_automation: int  # resolved by a rule or the system, nobody needed
    automation_resolution_rate: float | None  # resolved_by_automation / conversations_resolved
    first_response: Durations  # from the cycle's first customer message to the first human reply
    reply: Durations  # every customer wait: from the message that started it to the human reply
    resolution: Durations  # from the cycle's first customer message to its resolution
    queue_wait: Durations  # from entering a team's queue to the assignment
    sla_breaches: int  # SLAs that broke (once per due time), answered late or not yet
    sla_met: int  # replies within the SLA they answered
    sla_breach_rate: float | None  # sla_breaches / (sla_breaches + sla_met)
    csat_average: float | None
    csat_count: int
    leads_created: int
    leads_won: int
    lead_conversion_rate: float | None
    alerts: AlertCounts
    campaigns: CampaignKpis
    by_day: list[DayCount]
    by_hour: list[HourCount]
    agents: list[AgentKpis]
