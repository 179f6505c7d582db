"""The alerts' sweep in SQL (``public.ops_alerts``): each kind is one ``insert ... select ... on
conflict do nothing`` against the unique key of an active alert, so a condition that still holds
raises nothing new; queue and instance alerts are cleared when their condition ends."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from psycopg.types.json import Jsonb

from ponte.adapters.postgres.db import Database
from ponte.domain.alerts import AlertKind, sla_warning_leads
from ponte.ports.alerts import AlertStore

# instance statuses that mean "connected"; 'unknown' (never checked) is neither up nor down
CONNECTED = ("open", "connected", "isLogged", "inChat", "CONNECTED", "qrReadSuccess")

_THRESHOLD = "coalesce((s.settings -> 'alerts' ->> '{name}')::int, {default})"
_SETTINGS = "left join public.operations_settings s on s.tenant_id = {alias}.tenant_id"
_ON_CONFLICT = "on conflict (tenant_id, kind, key) where cleared_at is null do nothing"

_SLA = f"""
insert into public.ops_alerts (tenant_id, kind, key, instance_id, team_id, conversation_id, value, threshold)
select c.tenant_id, %(kind)s, c.id::text || '@' || c.sla_due_at::text, c.instance_id, c.team_id, c.id,
  extract(epoch from %(now)s - c.waiting_since), extract(epoch from c.sla_due_at - c.waiting_since)
from public.conversations c
where c.waiting_since is not null and c.sla_due_at is not null and c.state <> 'resolved'
  and {{condition}}
{_ON_CONFLICT}
"""

_QUEUE_LONG = f"""
insert into public.ops_alerts (tenant_id, kind, key, team_id, value, threshold)
select q.tenant_id, 'queue_long', q.team_id::text, q.team_id, q.n, q.threshold
from (select c.tenant_id, c.team_id, count(*) as n,
        {_THRESHOLD.format(name="queue_long_threshold", default=10)} as threshold
      from public.conversations c {_SETTINGS.format(alias="c")}
      where c.state = 'waiting' and c.team_id is not null
      group by c.tenant_id, c.team_id, s.settings) q
where q.n >= q.threshold
{_ON_CONFLICT}
"""

_QUEUE_CLEAR = """
update public.ops_alerts a set cleared_at = %(now)s
where a.kind = 'queue_long' and a.cleared_at is null
  and (select count(*) from public.conversations c where c.team_id = a.team_id and c.state = 'waiting') < a.threshold
"""

_NEGATIVE_SPIKE = f"""
insert into public.ops_alerts (tenant_id, kind, key, instance_id, value, threshold)
select n.tenant_id, 'negative_spike', n.instance_id::text || '@' || n.window_start::text, n.instance_id, n.n,
  n.threshold
from (select m.tenant_id, m.instance_id, count(*) as n,
        {_THRESHOLD.format(name="negative_spike_count", default=5)} as threshold,
        to_timestamp(floor(extract(epoch from %(now)s) / (60 * w.minutes)) * 60 * w.minutes) as window_start
      from public.message_analyses a
      join public.messages m on m.id = a.message_id
      left join public.analysis_corrections x on x.message_id = a.message_id
      {_SETTINGS.format(alias="a")}
      cross join lateral (select {_THRESHOLD.format(name="negative_spike_window_minutes", default=15)} as minutes) w
      where a.created_at > %(now)s - make_interval(mins => w.minutes) and a.created_at <= %(now)s
        and coalesce(x.sentiment, a.sentiment) = 'negative'
      group by m.tenant_id, m.instance_id, s.settings, w.minutes) n
where n.n >= n.threshold
{_ON_CONFLICT}
"""

_INSTANCE_DOWN = f"""
insert into public.ops_alerts (tenant_id, kind, key, instance_id, data)
select i.tenant_id, 'instance_disconnected', i.id::text, i.id, jsonb_build_object('status', i.status)
from public.whatsapp_instances i
where i.status <> 'unknown' and not (i.status = any(%(connected)s))
{_ON_CONFLICT}
"""

_INSTANCE_CLEAR = """
update public.ops_alerts a set cleared_at = %(now)s
from public.whatsapp_instances i
where a.kind = 'instance_disconnected' and a.cleared_at is null and i.id = a.instance_id
  and i.status = any(%(connected)s)
"""


class PgAlertStore(AlertStore):
    def __init__(self, db: Database) -> None:
        self._db = db

    def sweep(self, now: datetime) -> dict[str, int]:
        leads = Jsonb(sla_warning_leads())
        args: dict[str, Any] = {"now": now, "leads": leads, "connected": list(CONNECTED)}
        warning = "%(now)s >= c.sla_due_at - make_interval(secs => (%(leads)s::jsonb ->> c.priority)::float8)"
        raised: dict[str, int] = {}
        with self._db.as_service(None) as conn:
            for kind, sql in (
                (AlertKind.SLA_WARNING, _SLA.format(condition=f"{warning} and %(now)s < c.sla_due_at")),
                (AlertKind.SLA_BREACHED, _SLA.format(condition="%(now)s >= c.sla_due_at")),
                (AlertKind.QUEUE_LONG, _QUEUE_LONG),
                (AlertKind.NEGATIVE_SPIKE, _NEGATIVE_SPIKE),
                (AlertKind.INSTANCE_DISCONNECTED, _INSTANCE_DOWN),
            ):
                raised[kind.value] = conn.execute(sql, {**args, "kind": kind.value}).rowcount
            conn.execute(_QUEUE_CLEAR, args)
            conn.execute(_INSTANCE_CLEAR, args)
        return raised
