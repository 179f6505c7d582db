-- Gateway operations through the proxy: the send outbox (idempotency keys, suggestion
-- outcomes), the session-recovery state of each instance, the latest QR / pairing code
-- for the admins, and the indexes the diagnostics reads and cleanup need.

-- One row per send an agent asked for, written BEFORE the gateway is called: the
-- idempotency key makes a retried request find the first attempt instead of sending
-- twice, and a send whose answer was lost (timeout) stays 'unconfirmed' until the
-- gateway's state or its echo webhook tells what happened.
create table public.outbound_messages (
  id uuid primary key default gen_random_uuid(),
  tenant_id uuid not null references public.tenants (id) on delete cascade,
  instance_id uuid not null references public.whatsapp_instances (id) on delete cascade,
  -- null while the conversation is virtual (a deep link to a number never talked to)
  conversation_id uuid references public.conversations (id) on delete cascade,
  chat_key text not null,            -- the canonical identity the normalizers give this chat
  recipient text not null,           -- what the gateway is asked to send to (E.164 or JID)
  idempotency_key text not null check (length(idempotency_key) between 8 and 200),
  request_hash text not null,        -- sha256 of the request: a reused key with another text is refused
  body text not null,
  suggestion_id uuid,                -- the reply suggestion the agent started from, if any
  suggestion_outcome text check (suggestion_outcome in ('as_is', 'edited')),
  status text not null default 'pending' check (status in ('pending', 'sent', 'unconfirmed', 'failed')),
  attempts integer not null default 0,
  provider_message_id text,
  message_id uuid references public.messages (id) on delete set null,
  error_code text,
  created_by uuid references auth.users (id) on delete set null,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  unique (tenant_id, idempotency_key)
);
create index outbound_messages_conversation_idx on public.outbound_messages (conversation_id, created_at desc);
create index outbound_messages_unconfirmed_idx on public.outbound_messages (tenant_id, instance_id, chat_key)
  where status in ('pending', 'unconfirmed');
create index outbound_messages_suggestion_idx on public.outbound_messages (suggestion_id)
  where suggestion_id is not null;

alter table public.outbound_messages enable row level security;

create policy outbound_messages_member_select on public.outbound_messages for select to authenticated
  using (tenant_id in (select private.my_tenant_ids()));
create policy outbound_messages_member_insert on public.outbound_messages for insert to authenticated
  with check (tenant_id in (select private.my_tenant_ids()) and created_by = (select auth.uid()));
create policy outbound_messages_member_update on public.outbound_messages for update to authenticated
  using (tenant_id in (select private.my_tenant_ids()))
  with check (tenant_id in (select private.my_tenant_ids()));

-- The recovery state machine's state (ponte.domain.session_recovery.RecoveryState).
create table public.instance_sessions (
  instance_id uuid primary key references public.whatsapp_instances (id) on delete cascade,
  tenant_id uuid not null references public.tenants (id) on delete cascade,
  state jsonb not null default '{}'::jsonb,
  last_reason text,
  updated_at timestamptz not null default now()
);
create index instance_sessions_tenant_idx on public.instance_sessions (tenant_id);

alter table public.instance_sessions enable row level security;

create policy instance_sessions_admin_select on public.instance_sessions for select to authenticated
  using (tenant_id in (select private.my_admin_tenant_ids()));

-- The code an admin scans (or types) to log the instance in again. Only the latest is kept.
create table public.instance_qr_codes (
  instance_id uuid primary key references public.whatsapp_instances (id) on delete cascade,
  tenant_id uuid not null references public.tenants (id) on delete cascade,
  qr_code text,
  qr_image text,
  pairing_code text,
  generated_at timestamptz not null default now(),
  check (qr_code is not null or qr_image is not null or pairing_code is not null)
);
create index instance_qr_codes_tenant_idx on public.instance_qr_codes (tenant_id);

alter table public.instance_qr_codes enable row level security;

create policy instance_qr_codes_admin_select on public.instance_qr_codes for select to authenticated
  using (tenant_id in (select private.my_admin_tenant_ids()));

-- Diagnostics: admins filter by instance and time; the cleanup deletes by age.
create index proxy_diagnostics_instance_idx on public.proxy_diagnostics (tenant_id, instance_id, occurred_at desc, id desc);
create index proxy_diagnostics_occurred_idx on public.proxy_diagnostics (occurred_at);

-- A new code reaches the tenant's admins on their private topic.
-- The payload is ponte.domain.realtime.InstanceQrPayload.
create or replace function private.on_instance_qr_broadcast() returns trigger
language plpgsql security definer set search_path = '' as $$
begin
  perform private.broadcast_to_tenant_admins(
    new.tenant_id, 'instance_qr_updated',
    jsonb_build_object(
      'id', new.instance_id, 'instance_id', new.instance_id, 'tenant_id', new.tenant_id, 'qr_code', new.qr_code,
      'qr_image', new.qr_image, 'pairing_code', new.pairing_code, 'generated_at', new.generated_at
    )
  );
  return null;
end;
$$;

create trigger realtime_broadcast after insert or update on public.instance_qr_codes
  for each row execute function private.on_instance_qr_broadcast();

-- The purge registry (private.contact_data, 20261123002000): a send names the contact's
-- chat and holds the text; the session state and the QR codes are the tenant's own number.
insert into private.contact_data (relation, predicate, purge_order) values
  ('public.outbound_messages',
   'tenant_id = $1 and (conversation_id = any($4) or chat_key = any($3) or (''+'' || recipient) = any($3)'
   ' or recipient = any($3))', 8)
on conflict (relation) do update set predicate = excluded.predicate, exempt_reason = null,
  purge_order = excluded.purge_order;
insert into private.contact_data (relation, exempt_reason) values
  ('public.instance_sessions', 'recovery state of the tenant''s own gateway session, no contact data'),
  ('public.instance_qr_codes', 'login codes of the tenant''s own WhatsApp number, no contact data')
on conflict (relation) do nothing;
