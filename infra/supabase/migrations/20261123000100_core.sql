-- Ponte core schema: tenants, memberships, WhatsApp instances, contacts,
-- conversations, messages and the proxy diagnostics log. RLS on every table.

create schema if not exists private;
grant usage on schema private to anon, authenticated, service_role;

create table public.tenants (
  id uuid primary key default gen_random_uuid(),
  name text not null,
  settings jsonb not null default '{}'::jsonb,
  created_at timestamptz not null default now()
);

create table public.memberships (
  tenant_id uuid not null references public.tenants (id) on delete cascade,
  user_id uuid not null references auth.users (id) on delete cascade,
  role text not null check (role in ('owner', 'admin', 'agent')),
  created_at timestamptz not null default now(),
  primary key (tenant_id, user_id)
);
create index memberships_user_id_idx on public.memberships (user_id);

-- Set-returning membership helpers: policies call them once per statement
-- ("tenant_id in (select private.my_tenant_ids())"), not once per row.
create or replace function private.my_tenant_ids() returns setof uuid
language sql stable security definer set search_path = '' as $$
  select m.tenant_id from public.memberships m where m.user_id = (select auth.uid())
$$;

create or replace function private.my_admin_tenant_ids() returns setof uuid
language sql stable security definer set search_path = '' as $$
  select m.tenant_id from public.memberships m
  where m.user_id = (select auth.uid()) and m.role in ('owner', 'admin')
$$;

create or replace function private.my_owner_tenant_ids() returns setof uuid
language sql stable security definer set search_path = '' as $$
  select m.tenant_id from public.memberships m
  where m.user_id = (select auth.uid()) and m.role = 'owner'
$$;

revoke all on function private.my_tenant_ids(), private.my_admin_tenant_ids(), private.my_owner_tenant_ids() from public;
grant execute on function private.my_tenant_ids(), private.my_admin_tenant_ids(), private.my_owner_tenant_ids()
  to authenticated, service_role;

create table public.whatsapp_instances (
  id uuid primary key default gen_random_uuid(),
  tenant_id uuid not null references public.tenants (id) on delete cascade,
  provider text not null check (provider in ('wppconnect', 'evolution')),
  gateway_instance text not null,
  -- sha256 hex of the webhook secret; the secret itself is never stored
  webhook_secret_hash text not null,
  gateway_base_url text,
  -- name of the secret-store entry holding the gateway credentials (not the credentials)
  credentials_secret_name text,
  status text not null default 'unknown',
  created_at timestamptz not null default now(),
  unique (tenant_id, provider, gateway_instance)
);
create index whatsapp_instances_tenant_id_idx on public.whatsapp_instances (tenant_id);

create table public.contacts (
  id uuid primary key default gen_random_uuid(),
  tenant_id uuid not null references public.tenants (id) on delete cascade,
  identity_key text not null,       -- E.164 phone when known, otherwise the bare JID / LID
  phone_e164 text,
  display_name text,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  unique (tenant_id, identity_key)
);
create index contacts_phone_idx on public.contacts (tenant_id, phone_e164);

-- Every form the same person arrives under: JIDs with and without the 9th digit, @lid ids.
create table public.contact_aliases (
  tenant_id uuid not null references public.tenants (id) on delete cascade,
  alias text not null,
  contact_id uuid not null references public.contacts (id) on delete cascade,
  created_at timestamptz not null default now(),
  primary key (tenant_id, alias)
);
create index contact_aliases_contact_idx on public.contact_aliases (contact_id);

create table public.conversations (
  id uuid primary key default gen_random_uuid(),
  tenant_id uuid not null references public.tenants (id) on delete cascade,
  instance_id uuid not null references public.whatsapp_instances (id) on delete cascade,
  contact_id uuid not null references public.contacts (id) on delete cascade,
  chat_key text not null,
  last_message_at timestamptz,
  priority text not null default 'low' check (priority in ('low', 'medium', 'high', 'critical')),
  sla_due_at timestamptz,
  assigned_to uuid references auth.users (id) on delete set null,
  status text not null default 'open' check (status in ('open', 'closed')),
  created_at timestamptz not null default now(),
  unique (tenant_id, instance_id, chat_key)
);
create index conversations_tenant_idx on public.conversations (tenant_id, last_message_at desc);
create index conversations_contact_idx on public.conversations (contact_id);

create table public.messages (
  id uuid primary key default gen_random_uuid(),
  tenant_id uuid not null references public.tenants (id) on delete cascade,
  instance_id uuid not null references public.whatsapp_instances (id) on delete cascade,
  conversation_id uuid not null references public.conversations (id) on delete cascade,
  contact_id uuid not null references public.contacts (id) on delete cascade,
  chat_key text not null,
  provider_message_id text not null,
  direction text not null check (direction in ('in', 'out')),
  kind text not null,
  body text,
  media jsonb,
  quoted_message_id text,
  status text,
  occurred_at timestamptz not null,
  created_at timestamptz not null default now(),
  -- the dedupe key: a second delivery of the same message is a no-op
  unique (tenant_id, instance_id, chat_key, provider_message_id, direction)
);
create index messages_conversation_idx on public.messages (conversation_id, occurred_at desc);
create index messages_tenant_idx on public.messages (tenant_id, occurred_at desc);
create index messages_contact_idx on public.messages (contact_id);

create table public.proxy_diagnostics (
  id bigint generated always as identity primary key,
  tenant_id uuid references public.tenants (id) on delete cascade,
  instance_id uuid references public.whatsapp_instances (id) on delete set null,
  occurred_at timestamptz not null default now(),
  route text not null,
  event text,
  outcome text not null,
  status_code integer,
  latency_ms double precision,
  error_code text,
  detail jsonb
);
create index proxy_diagnostics_tenant_idx on public.proxy_diagnostics (tenant_id, occurred_at desc);

-- Row-level security on every table.
alter table public.tenants enable row level security;
alter table public.memberships enable row level security;
alter table public.whatsapp_instances enable row level security;
alter table public.contacts enable row level security;
alter table public.contact_aliases enable row level security;
alter table public.conversations enable row level security;
alter table public.messages enable row level security;
alter table public.proxy_diagnostics enable row level security;

create policy tenants_select on public.tenants for select to authenticated
  using (id in (select private.my_tenant_ids()));
create policy tenants_update on public.tenants for update to authenticated
  using (id in (select private.my_admin_tenant_ids()))
  with check (id in (select private.my_admin_tenant_ids()));

create policy memberships_select on public.memberships for select to authenticated
  using (tenant_id in (select private.my_tenant_ids()));
create policy memberships_write on public.memberships for all to authenticated
  using (tenant_id in (select private.my_owner_tenant_ids()))
  with check (tenant_id in (select private.my_owner_tenant_ids()));

create policy instances_select on public.whatsapp_instances for select to authenticated
  using (tenant_id in (select private.my_tenant_ids()));
create policy instances_write on public.whatsapp_instances for all to authenticated
  using (tenant_id in (select private.my_admin_tenant_ids()))
  with check (tenant_id in (select private.my_admin_tenant_ids()));

create policy contacts_member on public.contacts for all to authenticated
  using (tenant_id in (select private.my_tenant_ids()))
  with check (tenant_id in (select private.my_tenant_ids()));

create policy contact_aliases_member on public.contact_aliases for all to authenticated
  using (tenant_id in (select private.my_tenant_ids()))
  with check (tenant_id in (select private.my_tenant_ids()));

create policy conversations_member on public.conversations for all to authenticated
  using (tenant_id in (select private.my_tenant_ids()))
  with check (tenant_id in (select private.my_tenant_ids()));

create policy messages_member on public.messages for all to authenticated
  using (tenant_id in (select private.my_tenant_ids()))
  with check (tenant_id in (select private.my_tenant_ids()));

create policy diagnostics_admin_select on public.proxy_diagnostics for select to authenticated
  using (tenant_id in (select private.my_admin_tenant_ids()));
