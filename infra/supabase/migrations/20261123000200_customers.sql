-- The ERP's customer records, filled by the ERP (service role or an admin), matched by
-- canonical phone for lead creation and for deep-link customer cards.

create table public.customers (
  id uuid primary key default gen_random_uuid(),
  tenant_id uuid not null references public.tenants (id) on delete cascade,
  external_id text not null,          -- the ERP's own id
  name text not null,
  phone_raw text,                     -- as the ERP typed it
  phone_e164 text,                    -- canonical (E.164 with the 9th digit), set by Ponte on import
  photo_url text,
  sales_summary jsonb not null default '{}'::jsonb,
  updated_at timestamptz not null default now(),
  unique (tenant_id, external_id)
);
create index customers_phone_idx on public.customers (tenant_id, phone_e164);

alter table public.customers enable row level security;

create policy customers_member_select on public.customers for select to authenticated
  using (tenant_id in (select private.my_tenant_ids()));
create policy customers_admin_write on public.customers for all to authenticated
  using (tenant_id in (select private.my_admin_tenant_ids()))
  with check (tenant_id in (select private.my_admin_tenant_ids()));
