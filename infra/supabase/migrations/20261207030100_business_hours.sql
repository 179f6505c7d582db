-- Business hours (issue 17): per tenant, instance or team; several intervals per day, a time zone,
-- Brazil's national holidays built in (ponte.domain.business_hours) and the tenant's own days off.
-- The schedule itself is ponte.domain.business_hours.Schedule as JSON (validated by the API).
create table public.business_hours (
  id uuid primary key default gen_random_uuid(),
  tenant_id uuid not null references public.tenants (id) on delete cascade,
  -- the scope: neither (the tenant's), an instance's, or a team's (a team's wins, then the instance's)
  instance_id uuid references public.whatsapp_instances (id) on delete cascade,
  team_id uuid references public.teams (id) on delete cascade,
  schedule jsonb not null,
  updated_at timestamptz not null default now(),
  check (instance_id is null or team_id is null)
);
create unique index business_hours_scope_idx on public.business_hours (
  tenant_id, coalesce(instance_id, '00000000-0000-0000-0000-000000000000'::uuid),
  coalesce(team_id, '00000000-0000-0000-0000-000000000000'::uuid)
);

alter table public.business_hours enable row level security;
create policy business_hours_member_select on public.business_hours for select to authenticated
  using (tenant_id in (select private.my_tenant_ids()));
create policy business_hours_admin_write on public.business_hours for all to authenticated
  using (tenant_id in (select private.my_admin_tenant_ids()))
  with check (tenant_id in (select private.my_admin_tenant_ids()));

insert into private.contact_data (relation, exempt_reason) values
  ('public.business_hours', 'opening hours and holidays, no contact data')
on conflict (relation) do nothing;
