-- KPIs at size (issue 17). The report over a year of a large tenant read every event of the period
-- (444,000 rows for a 10,000-customer tenant: p95 1.7-3.3 s on 2 vCPU). Now:
--   * counts (conversations opened, queued, resolved, SLA breaches and met, CSAT, per day and per
--     agent) come from a daily rollup per (tenant, São Paulo day, team, agent, instance), and the
--     conversations opened per hour of the day from an hourly one; the partial days at either end
--     of a period are counted from the events themselves, with the same definitions;
--   * durations (first response, reply, resolution, queue wait) stay exact: their averages and
--     percentiles are computed from the values stored on the events, read through one small
--     partial covering index per measure.
-- One definition of what an event counts for, private.kpi_counts(), serves the rollups' triggers,
-- the backfill and the report's partial days. Statement-level triggers on conversation_events keep
-- the rollups in the writer's transaction, set-based (one upsert per statement, whatever its rows;
-- nothing on the messages insert path): inserted events are added, deleted ones (the purge of a
-- hidden or erased contact, a deleted conversation) subtracted, so a purged contact leaves no count.

-- The report's calendar: São Paulo days and hours (PROTOCOL_TIME_ZONE in ponte.adapters.postgres.lifecycle).
create function private.kpi_day(p_at timestamptz) returns date
language sql immutable parallel safe as $$ select (p_at at time zone 'America/Sao_Paulo')::date $$;
create function private.kpi_hour(p_at timestamptz) returns smallint
language sql immutable parallel safe as $$ select extract(hour from p_at at time zone 'America/Sao_Paulo')::smallint $$;
create function private.kpi_day_start(p_day date) returns timestamptz
language sql immutable parallel safe as $$ select p_day::timestamp at time zone 'America/Sao_Paulo' $$;

-- What one event counts for: 0 or 1 each, and the CSAT rating (null for other events). A set-
-- returning SQL function so that it is inlined wherever it is used (events, a trigger's rows).
create function private.kpi_counts(
  p_kind text, p_action text, p_to_state text, p_actor_type text, p_value_seconds double precision,
  p_sla_due_at timestamptz, p_occurred_at timestamptz
) returns table (
  opened integer, queued integer, resolved integer, resolved_by_automation integer, assigned integer,
  first_responses integer, replies integer, sla_breaches integer, sla_met integer, csat_count integer,
  csat_value double precision
)
language sql immutable parallel safe as $$
  select
    coalesce(p_kind = 'transition' and p_action in ('open', 'reopen'), false)::integer,
    coalesce(p_kind = 'transition' and p_action in ('route', 'transfer') and p_to_state = 'waiting', false)::integer,
    coalesce(p_kind = 'transition' and p_action = 'resolve', false)::integer,
    coalesce(p_kind = 'transition' and p_action = 'resolve' and p_actor_type in ('system', 'rule'), false)::integer,
    coalesce(p_kind = 'transition' and p_action = 'assign', false)::integer,
    (p_kind = 'first_response')::integer,
    (p_kind = 'reply')::integer,
    (p_kind = 'sla_breach')::integer,
    -- a reply within the SLA it answered
    coalesce(p_kind = 'reply' and p_occurred_at <= p_sla_due_at, false)::integer,
    (p_kind = 'csat')::integer,
    case when p_kind = 'csat' then p_value_seconds end
$$;
grant execute on function private.kpi_day(timestamptz), private.kpi_hour(timestamptz), private.kpi_day_start(date),
  private.kpi_counts(text, text, text, text, double precision, timestamptz, timestamptz) to authenticated, service_role;

-- The events with what they count for, under the caller's row-level security.
create view private.kpi_event_counts with (security_invoker = true) as
select e.id, e.tenant_id, e.occurred_at, private.kpi_day(e.occurred_at) as day, private.kpi_hour(e.occurred_at) as hour,
  e.team_id, e.agent_id, e.instance_id, k.*
from public.conversation_events e
cross join lateral private.kpi_counts(e.kind, e.action, e.to_state, e.actor_type, e.value_seconds, e.sla_due_at,
                                      e.occurred_at) k;
grant select on private.kpi_event_counts to authenticated, service_role;

-- Daily counts. A row lives while an event of its day and key does (events > 0): that is what puts
-- a day in the report's by_day and an agent in its agents.
create table public.kpi_daily (
  tenant_id uuid not null references public.tenants (id) on delete cascade,
  day date not null,
  team_id uuid,
  agent_id uuid,
  instance_id uuid not null,
  events integer not null,
  opened integer not null,
  queued integer not null,
  resolved integer not null,
  resolved_by_automation integer not null,
  assigned integer not null,
  first_responses integer not null,
  replies integer not null,
  sla_breaches integer not null,
  sla_met integer not null,
  csat_count integer not null,
  csat_rated integer not null,  -- CSAT events with a rating: the average's divisor
  csat_sum double precision not null,
  constraint kpi_daily_key unique nulls not distinct (tenant_id, day, team_id, agent_id, instance_id)
);

-- Conversations opened per São Paulo day and hour of the day.
create table public.kpi_hourly_opened (
  tenant_id uuid not null references public.tenants (id) on delete cascade,
  day date not null,
  hour smallint not null check (hour between 0 and 23),
  team_id uuid,
  agent_id uuid,
  instance_id uuid not null,
  opened integer not null,
  constraint kpi_hourly_opened_key unique nulls not distinct (tenant_id, day, hour, team_id, agent_id, instance_id)
);

alter table public.kpi_daily enable row level security;
alter table public.kpi_hourly_opened enable row level security;
-- readable like the events they count; written only by the triggers below
create policy kpi_daily_member_select on public.kpi_daily for select to authenticated
  using (tenant_id in (select private.my_tenant_ids()));
create policy kpi_hourly_opened_member_select on public.kpi_hourly_opened for select to authenticated
  using (tenant_id in (select private.my_tenant_ids()));

-- The rollups follow conversation_events: a trigger's transition table "changed_events" holds the
-- statement's rows, added (argument 1: inserted rows, an update's new rows) or subtracted (-1:
-- deleted rows, an update's old rows). One upsert per table in key order (one lock order for every
-- writer), then the rows nothing counts any more go. A deleted tenant's rows went with it (cascade).
create function private.kpi_rollup() returns trigger
language plpgsql volatile security definer set search_path = '' as $$
declare
  sign constant integer := tg_argv[0]::integer;
begin
  insert into public.kpi_daily as r
  select e.tenant_id, private.kpi_day(e.occurred_at), e.team_id, e.agent_id, e.instance_id, sign * count(*),
    sign * sum(k.opened), sign * sum(k.queued), sign * sum(k.resolved), sign * sum(k.resolved_by_automation),
    sign * sum(k.assigned), sign * sum(k.first_responses), sign * sum(k.replies), sign * sum(k.sla_breaches),
    sign * sum(k.sla_met), sign * sum(k.csat_count), sign * count(k.csat_value), sign * coalesce(sum(k.csat_value), 0)
  from changed_events e
  cross join lateral private.kpi_counts(e.kind, e.action, e.to_state, e.actor_type, e.value_seconds, e.sla_due_at,
                                        e.occurred_at) k
  where sign > 0 or exists (select 1 from public.tenants t where t.id = e.tenant_id)  -- not a deleted tenant's
  group by 1, 2, 3, 4, 5
  order by 1, 2, 3, 4, 5
  on conflict on constraint kpi_daily_key do update set
    events = r.events + excluded.events, opened = r.opened + excluded.opened, queued = r.queued + excluded.queued,
    resolved = r.resolved + excluded.resolved,
    resolved_by_automation = r.resolved_by_automation + excluded.resolved_by_automation,
    assigned = r.assigned + excluded.assigned, first_responses = r.first_responses + excluded.first_responses,
    replies = r.replies + excluded.replies, sla_breaches = r.sla_breaches + excluded.sla_breaches,
    sla_met = r.sla_met + excluded.sla_met, csat_count = r.csat_count + excluded.csat_count,
    csat_rated = r.csat_rated + excluded.csat_rated, csat_sum = r.csat_sum + excluded.csat_sum;
  insert into public.kpi_hourly_opened as r
  select e.tenant_id, private.kpi_day(e.occurred_at), private.kpi_hour(e.occurred_at), e.team_id, e.agent_id,
    e.instance_id, sign * sum(k.opened)
  from changed_events e
  cross join lateral private.kpi_counts(e.kind, e.action, e.to_state, e.actor_type, e.value_seconds, e.sla_due_at,
                                        e.occurred_at) k
  where k.opened > 0 and (sign > 0 or exists (select 1 from public.tenants t where t.id = e.tenant_id))
  group by 1, 2, 3, 4, 5, 6
  order by 1, 2, 3, 4, 5, 6
  on conflict on constraint kpi_hourly_opened_key do update set opened = r.opened + excluded.opened;
  if sign < 0 then
    delete from public.kpi_daily r
    using (select distinct e.tenant_id, private.kpi_day(e.occurred_at) as day from changed_events e) d
    where r.tenant_id = d.tenant_id and r.day = d.day and r.events = 0;
    delete from public.kpi_hourly_opened r
    using (select distinct e.tenant_id, private.kpi_day(e.occurred_at) as day from changed_events e) d
    where r.tenant_id = d.tenant_id and r.day = d.day and r.opened = 0;
  end if;
  return null;
end;
$$;

create trigger kpi_rollup_inserted after insert on public.conversation_events
  referencing new table as changed_events for each statement execute function private.kpi_rollup('1');
create trigger kpi_rollup_deleted after delete on public.conversation_events
  referencing old table as changed_events for each statement execute function private.kpi_rollup('-1');
create trigger kpi_rollup_updated_old after update on public.conversation_events
  referencing old table as changed_events for each statement execute function private.kpi_rollup('-1');
create trigger kpi_rollup_updated_new after update on public.conversation_events
  referencing new table as changed_events for each statement execute function private.kpi_rollup('1');

-- Rebuilds a tenant's rollups from its events (null: every tenant's): the backfill below, and after
-- a bulk load that ran without triggers (session_replication_role = replica).
create function private.kpi_rebuild(p_tenant uuid) returns void
language plpgsql volatile security definer set search_path = '' as $$
begin
  delete from public.kpi_daily where p_tenant is null or tenant_id = p_tenant;
  delete from public.kpi_hourly_opened where p_tenant is null or tenant_id = p_tenant;
  insert into public.kpi_daily
  select c.tenant_id, c.day, c.team_id, c.agent_id, c.instance_id, count(*), sum(c.opened), sum(c.queued),
    sum(c.resolved), sum(c.resolved_by_automation), sum(c.assigned), sum(c.first_responses), sum(c.replies),
    sum(c.sla_breaches), sum(c.sla_met), sum(c.csat_count), count(c.csat_value), coalesce(sum(c.csat_value), 0)
  from private.kpi_event_counts c where p_tenant is null or c.tenant_id = p_tenant
  group by c.tenant_id, c.day, c.team_id, c.agent_id, c.instance_id;
  insert into public.kpi_hourly_opened
  select c.tenant_id, c.day, c.hour, c.team_id, c.agent_id, c.instance_id, sum(c.opened)
  from private.kpi_event_counts c where (p_tenant is null or c.tenant_id = p_tenant) and c.opened > 0
  group by c.tenant_id, c.day, c.hour, c.team_id, c.agent_id, c.instance_id;
end;
$$;
revoke all on function private.kpi_rebuild(uuid) from public, anon, authenticated, service_role;

create function private.kpi_truncated() returns trigger
language plpgsql volatile security definer set search_path = '' as $$
begin
  truncate public.kpi_daily, public.kpi_hourly_opened;
  return null;
end;
$$;
create trigger kpi_rollup_truncated after truncate on public.conversation_events
  for each statement execute function private.kpi_truncated();

-- Durations: one partial covering index per measure (ponte.adapters.postgres.reports' filters match them).
create index conversation_events_first_response_idx on public.conversation_events (tenant_id, occurred_at)
  include (value_seconds, business_seconds, team_id, agent_id, instance_id) where kind = 'first_response';
create index conversation_events_reply_idx on public.conversation_events (tenant_id, occurred_at)
  include (value_seconds, business_seconds, team_id, agent_id, instance_id) where kind = 'reply';
create index conversation_events_resolution_idx on public.conversation_events (tenant_id, occurred_at)
  include (value_seconds, business_seconds, team_id, agent_id, instance_id)
  where kind = 'transition' and action = 'resolve' and value_seconds is not null;
create index conversation_events_queue_wait_idx on public.conversation_events (tenant_id, occurred_at)
  include (value_seconds, business_seconds, team_id, agent_id, instance_id)
  where kind = 'transition' and action = 'assign' and from_state = 'waiting' and value_seconds is not null;
-- index-only scans need the visibility map: this insert-only table is vacuumed after 1 % new rows, not 20 %
alter table public.conversation_events set (autovacuum_vacuum_insert_scale_factor = 0.01);

-- The events already stored.
select private.kpi_rebuild(null);

-- The purge registry: the counts name no contact, conversation or message, and a purged contact's
-- events leave them through the triggers above.
insert into private.contact_data (relation, exempt_reason) values
  ('public.kpi_daily', 'counts per day, team, agent and instance; a purged contact''s events are subtracted'),
  ('public.kpi_hourly_opened', 'counts per day and hour, team, agent and instance; a purged contact''s events are subtracted')
on conflict (relation) do nothing;
