-- Webhook normalization (issue 3): the quarantine of payloads that failed normalization,
-- per-instance webhook signing keys, and the columns the canonical events fill
-- (acks, edits, reactions, contact pictures).

-- Payloads that failed normalization, kept (size-capped) so that they can be replayed after
-- a fix. Never written for a payload that concerns a hidden contact. Admins of the tenant
-- read it; only the service role writes (no policy grants insert/update/delete).
create table public.webhook_quarantine (
  id bigint generated always as identity primary key,
  tenant_id uuid not null references public.tenants (id) on delete cascade,
  instance_id uuid references public.whatsapp_instances (id) on delete set null,
  provider text not null,
  reason_code text not null,
  detail text,
  event text,
  -- the raw body as received, cut at the cap (payload_bytes is the full size)
  raw_payload text not null,
  payload_bytes integer not null,
  truncated boolean not null default false,
  received_at timestamptz not null default now(),
  replayed_at timestamptz,
  replay_outcome text,
  replay_reason text
);
create index webhook_quarantine_tenant_idx on public.webhook_quarantine (tenant_id, received_at desc);
create index webhook_quarantine_pending_idx on public.webhook_quarantine (received_at) where replayed_at is null;

alter table public.webhook_quarantine enable row level security;
create policy webhook_quarantine_admin_select on public.webhook_quarantine for select to authenticated
  using (tenant_id in (select private.my_admin_tenant_ids()));
revoke insert, update, delete on public.webhook_quarantine from anon, authenticated;

-- HMAC-SHA256 body signatures, per instance and optional. The key must be readable by the
-- proxy to verify (a hash would not do), so it lives in the private schema, which neither
-- anon nor authenticated can read; the service role can.
create table private.instance_webhook_signing (
  instance_id uuid primary key references public.whatsapp_instances (id) on delete cascade,
  hmac_key text not null check (char_length(hmac_key) >= 16),
  header_name text not null default 'x-ponte-signature',
  created_at timestamptz not null default now()
);
alter table private.instance_webhook_signing enable row level security;
revoke all on private.instance_webhook_signing from public, anon, authenticated;
grant select, insert, update, delete on private.instance_webhook_signing to service_role;

-- What the canonical events carry beyond the core columns.
alter table public.messages
  add column target_message_id text,     -- reactions, edits and revokes point at another message
  add column edited_at timestamptz,      -- set when an edit of this message arrived
  add column status_at timestamptz;      -- when the current status was reported
create index messages_provider_id_idx on public.messages (tenant_id, instance_id, provider_message_id);

alter table public.contacts add column picture_url text;
