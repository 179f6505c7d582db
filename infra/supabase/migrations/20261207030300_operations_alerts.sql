-- Operations alerts (issue 17): on the admins' topic, each once (ponte.domain.alerts). An active
-- alert is unique per (tenant, kind, key); queue and instance alerts are cleared when their
-- condition ends, so the next episode raises again.
create table public.ops_alerts (
  id bigint generated always as identity primary key,
  tenant_id uuid not null references public.tenants (id) on delete cascade,
  kind text not null
    check (kind in ('sla_warning', 'sla_breached', 'queue_long', 'negative_spike', 'instance_disconnected')),
  key text not null,
  instance_id uuid references public.whatsapp_instances (id) on delete cascade,
  team_id uuid references public.teams (id) on delete cascade,
  conversation_id uuid references public.conversations (id) on delete cascade,
  value double precision,       -- what was measured (seconds waited, conversations queued, negative messages)
  threshold double precision,   -- what it was compared with
  data jsonb,
  raised_at timestamptz not null default now(),
  cleared_at timestamptz
);
create unique index ops_alerts_active_idx on public.ops_alerts (tenant_id, kind, key) where cleared_at is null;
create index ops_alerts_tenant_idx on public.ops_alerts (tenant_id, raised_at);
create index ops_alerts_conversation_idx on public.ops_alerts (conversation_id) where conversation_id is not null;
-- the negative-spike sweep reads the last minutes of analyses
create index if not exists message_analyses_created_idx on public.message_analyses (created_at);

alter table public.ops_alerts enable row level security;
create policy ops_alerts_admin_select on public.ops_alerts for select to authenticated
  using (tenant_id in (select private.my_admin_tenant_ids()));

-- Each new alert to the tenant's admins (ponte.domain.realtime.AlertPayload).
create or replace function private.on_ops_alert_broadcast() returns trigger
language plpgsql security definer set search_path = '' as $$
begin
  perform private.broadcast_to_tenant_admins(
    new.tenant_id, 'ops_alert',
    jsonb_build_object(
      'id', new.id, 'tenant_id', new.tenant_id, 'kind', new.kind, 'instance_id', new.instance_id,
      'team_id', new.team_id, 'conversation_id', new.conversation_id, 'value', new.value,
      'threshold', new.threshold, 'raised_at', new.raised_at
    )
  );
  return null;
end;
$$;

create trigger realtime_broadcast after insert on public.ops_alerts
  for each row execute function private.on_ops_alert_broadcast();

insert into private.contact_data (relation, predicate, purge_order) values
  ('public.ops_alerts', 'tenant_id = $1 and conversation_id = any($4)', 5)
on conflict (relation) do update set predicate = excluded.predicate, exempt_reason = null,
  purge_order = excluded.purge_order;
-- alerts on the admins' topic name the conversation too
update private.contact_data set predicate =
  'topic = any(array(select ''conversation:'' || c::text from unnest($4) c))'
  ' or (topic in (''tenant:'' || $1::text, ''tenant:'' || $1::text || '':admin'')'
  ' and (payload ->> ''contact_id'' = any($2::text[]) or payload ->> ''conversation_id'' = any($4::text[])))'
  ' or (topic like ''user:%'' and payload ->> ''tenant_id'' = $1::text'
  ' and payload ->> ''conversation_id'' = any($4::text[]))'
where relation = 'realtime.messages';
