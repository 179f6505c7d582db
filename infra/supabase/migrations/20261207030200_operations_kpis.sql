-- KPIs from the lifecycle's events (issue 17): replies remember the SLA they answered, an SLA that
-- broke is one 'sla_breach' event (once per due time, by the reply or by the timer, whichever
-- sees it first), and one covering index serves the report's scan of a tenant's period.
alter table public.conversation_events
  add column sla_due_at timestamptz;  -- replies: the SLA that was pending (met when not later than this)
alter table public.conversation_events drop constraint conversation_events_kind_check;
alter table public.conversation_events add constraint conversation_events_kind_check
  check (kind in ('transition', 'first_response', 'reply', 'csat', 'sla_breach'));

alter table public.conversations
  add column sla_breach_recorded_for timestamptz;  -- the due time whose breach is already an event

-- the report reads a tenant's period with index-only scans
drop index public.conversation_events_tenant_idx;
create index conversation_events_report_idx on public.conversation_events (tenant_id, occurred_at)
  include (kind, action, from_state, to_state, actor_type, team_id, agent_id, instance_id, value_seconds, business_seconds,
           sla_due_at);
-- the SLA timer: conversations whose SLA broke with the customer still waiting
create index conversations_sla_idx on public.conversations (sla_due_at)
  where sla_due_at is not null and waiting_since is not null;
