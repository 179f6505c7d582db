-- Campaigns (issue 19): personalized mass sends approved by a person, throttled per instance,
-- held in quiet hours, never sent twice, and never to a number that opted out.
--
-- The rules are ponte/domain/campaigns/*; the sender is ponte/services/campaign_sender.py (queue
-- ponte-campaign + a tick schedule). Every message goes through the one outbox
-- (public.outbound_messages, origin 'campaign', idempotency key 'campaign:<campaign>:<recipient>').
-- Nothing here touches the message insert path: replies and opt-outs are read by the campaign
-- function from the ingest's after-commit job.
--
-- Opt-outs and consent records hold a keyed hash of the number (HMAC-SHA256 with the audit key,
-- as public.privacy_audit does), never the number: an erased or hidden person's opt-out survives
-- the purge, so they are never messaged again until they opt in.

-- Per-tenant settings (ponte.domain.campaigns.settings.CampaignSettings, validated there): the
-- opt-out instruction and confirmation, keyword lists, quiet hours, reply window, Cloud tier.
create table public.campaign_settings (
  tenant_id uuid primary key references public.tenants (id) on delete cascade,
  settings jsonb not null default '{}'::jsonb,
  updated_by uuid references auth.users (id) on delete set null,
  updated_at timestamptz not null default now()
);

-- Tags on contacts (segments filter on them); written by members through the API / PostgREST.
create table public.contact_tags (
  tenant_id uuid not null references public.tenants (id) on delete cascade,
  contact_id uuid not null references public.contacts (id) on delete cascade,
  tag text not null check (length(tag) between 1 and 40),
  created_at timestamptz not null default now(),
  primary key (tenant_id, contact_id, tag)
);
create index contact_tags_tag_idx on public.contact_tags (tenant_id, tag);

create table public.campaigns (
  id uuid primary key default gen_random_uuid(),
  tenant_id uuid not null references public.tenants (id) on delete cascade,
  instance_id uuid not null references public.whatsapp_instances (id) on delete cascade,
  name text not null check (length(name) between 1 and 120),
  status text not null default 'draft'
    check (status in ('draft', 'approved', 'running', 'paused', 'completed', 'cancelled')),
  audience jsonb not null,            -- ponte.domain.campaigns.audience.AudienceSpec
  message jsonb not null,             -- ponte.domain.campaigns.message.CampaignMessage
  content_hash text not null,         -- of instance, audience, CSV rows and message
  preview_hash text,                  -- the content a person last previewed
  previewed_at timestamptz,
  approved_hash text,                 -- the content a person approved (== content_hash to start)
  approved_by uuid references auth.users (id) on delete set null,
  approved_at timestamptz,
  started_by uuid references auth.users (id) on delete set null,
  started_at timestamptz,
  paused_at timestamptz,
  pause_code text,                    -- manual | meta_limit | instance_disconnected | ...
  pause_reason text,
  completed_at timestamptz,
  cancelled_at timestamptz,
  csv_report jsonb,                   -- a CSV audience's rows read and refused (ponte.domain.campaigns.api.CsvReport)
  audience_report jsonb,              -- counts by reason at start (ponte.domain.campaigns.audience.AudienceReport)
  progress jsonb not null default '{}'::jsonb,
  created_by uuid references auth.users (id) on delete set null,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  -- nothing goes out before a person approved exactly this content
  constraint campaigns_approved_before_sending check (
    status in ('draft', 'cancelled')
    or (approved_at is not null and approved_hash is not null and approved_hash = content_hash)
  )
);
create index campaigns_tenant_idx on public.campaigns (tenant_id, created_at desc, id desc);
create index campaigns_active_idx on public.campaigns (status) where status in ('running', 'paused');

-- A CSV audience's rows, normalized at upload (the audience is frozen from them at start).
create table public.campaign_csv_rows (
  campaign_id uuid not null references public.campaigns (id) on delete cascade,
  tenant_id uuid not null references public.tenants (id) on delete cascade,
  row_number integer not null,
  phone_e164 text not null,
  vars jsonb not null default '{}'::jsonb,  -- RecipientValues: name, due_date, amount, link
  primary key (campaign_id, row_number)
);
create index campaign_csv_rows_phone_idx on public.campaign_csv_rows (tenant_id, phone_e164);

-- The frozen audience: one row per recipient with the exact text it gets.
create table public.campaign_recipients (
  id uuid primary key default gen_random_uuid(),
  tenant_id uuid not null references public.tenants (id) on delete cascade,
  campaign_id uuid not null references public.campaigns (id) on delete cascade,
  ordinal integer not null,
  contact_id uuid references public.contacts (id) on delete set null,
  customer_id uuid references public.customers (id) on delete set null,
  phone_e164 text not null,
  body text not null,                 -- rendered, diversified, opt-out instruction appended
  template_params jsonb,              -- the Cloud API template's parameters, in order
  body_source text not null default 'template' check (body_source in ('template', 'llm')),
  status text not null default 'queued'
    check (status in ('queued', 'released', 'sending', 'sent', 'failed', 'skipped', 'cancelled')),
  skip_reason text,
  error_code text,
  attempts integer not null default 0,
  slot_at timestamptz,                -- the planned send time (released)
  released_at timestamptz,
  claimed_at timestamptz,
  sent_at timestamptz,
  outbox_id uuid references public.outbound_messages (id) on delete set null,
  message_id uuid references public.messages (id) on delete set null,
  replied_at timestamptz,
  reply_message_id uuid references public.messages (id) on delete set null,
  reply_lead_id uuid references public.leads (id) on delete set null,
  opted_out_at timestamptz,
  updated_at timestamptz not null default now(),
  unique (campaign_id, ordinal),
  unique (campaign_id, phone_e164)
);
create index campaign_recipients_next_idx on public.campaign_recipients (campaign_id, ordinal)
  where status = 'queued';
create index campaign_recipients_flight_idx on public.campaign_recipients (campaign_id, status)
  where status in ('released', 'sending');
create index campaign_recipients_phone_idx on public.campaign_recipients (tenant_id, phone_e164, sent_at desc);
create index campaign_recipients_contact_idx on public.campaign_recipients (contact_id);
create index campaign_recipients_outbox_idx on public.campaign_recipients (outbox_id);
create index campaign_recipients_message_idx on public.campaign_recipients (message_id);

-- Each instance's pacing (ponte.domain.campaigns.throttle.PacingState), shared by its campaigns.
create table public.campaign_pacing (
  instance_id uuid primary key references public.whatsapp_instances (id) on delete cascade,
  tenant_id uuid not null references public.tenants (id) on delete cascade,
  next_at timestamptz,
  in_burst integer not null default 0,
  day text,
  day_count integer not null default 0,
  last_sent_at timestamptz,              -- when the last send took its turn (the gate)
  next_gap_seconds double precision not null default 0,  -- the jittered gap it drew for the next one
  sent_in_burst integer not null default 0,               -- sends since the gate's last long pause
  updated_at timestamptz not null default now()
);
create index campaign_pacing_tenant_idx on public.campaign_pacing (tenant_id);

-- The suppression list, per tenant and channel: keyed hashes of numbers.
create table public.opt_outs (
  tenant_id uuid not null references public.tenants (id) on delete cascade,
  channel text not null default 'whatsapp' check (channel in ('whatsapp')),
  phone_hash text not null check (phone_hash ~ '^[0-9a-f]{64}$'),
  source text not null check (source in ('keyword', 'clear_request', 'meta_131050', 'manual')),
  campaign_id uuid references public.campaigns (id) on delete set null,
  opted_out_at timestamptz not null default now(),
  opted_in_at timestamptz,            -- set: the number may be in an audience again
  primary key (tenant_id, channel, phone_hash)
);

-- Consent records: every opt-out and opt-in, with where it came from and who recorded it.
create table public.consent_records (
  id bigint generated always as identity primary key,
  tenant_id uuid not null references public.tenants (id) on delete cascade,
  channel text not null default 'whatsapp' check (channel in ('whatsapp')),
  phone_hash text not null check (phone_hash ~ '^[0-9a-f]{64}$'),
  action text not null check (action in ('opt_out', 'opt_in')),
  source text not null check (source in ('keyword', 'clear_request', 'meta_131050', 'manual', 'reply')),
  campaign_id uuid references public.campaigns (id) on delete set null,
  actor_user_id uuid references auth.users (id) on delete set null,
  occurred_at timestamptz not null default now()
);
create index consent_records_tenant_idx on public.consent_records (tenant_id, phone_hash, occurred_at desc);

-- Who did what to a campaign (approval included), with the content hash it applied to.
create table public.campaign_audit (
  id bigint generated always as identity primary key,
  tenant_id uuid not null references public.tenants (id) on delete cascade,
  campaign_id uuid not null references public.campaigns (id) on delete cascade,
  action text not null check (action in ('created', 'edited', 'previewed', 'approved', 'started', 'paused',
    'resumed', 'cancelled', 'auto_paused', 'completed')),
  actor_user_id uuid references auth.users (id) on delete set null,
  content_hash text,
  reason text,
  occurred_at timestamptz not null default now()
);
create index campaign_audit_campaign_idx on public.campaign_audit (campaign_id, occurred_at);

-- Row-level security: members read, owners and admins write; the sender runs as the service.
alter table public.campaign_settings enable row level security;
alter table public.contact_tags enable row level security;
alter table public.campaigns enable row level security;
alter table public.campaign_csv_rows enable row level security;
alter table public.campaign_recipients enable row level security;
alter table public.campaign_pacing enable row level security;
alter table public.opt_outs enable row level security;
alter table public.consent_records enable row level security;
alter table public.campaign_audit enable row level security;

create policy campaign_settings_member_select on public.campaign_settings for select to authenticated
  using (tenant_id in (select private.my_tenant_ids()));
create policy campaign_settings_admin_write on public.campaign_settings for all to authenticated
  using (tenant_id in (select private.my_admin_tenant_ids()))
  with check (tenant_id in (select private.my_admin_tenant_ids()));

create policy contact_tags_member on public.contact_tags for all to authenticated
  using (tenant_id in (select private.my_tenant_ids()))
  with check (tenant_id in (select private.my_tenant_ids()));

create policy campaigns_member_select on public.campaigns for select to authenticated
  using (tenant_id in (select private.my_tenant_ids()));
create policy campaigns_admin_insert on public.campaigns for insert to authenticated
  with check (tenant_id in (select private.my_admin_tenant_ids()) and created_by = (select auth.uid()));
create policy campaigns_admin_update on public.campaigns for update to authenticated
  using (tenant_id in (select private.my_admin_tenant_ids()))
  with check (tenant_id in (select private.my_admin_tenant_ids()));

create policy campaign_csv_rows_admin on public.campaign_csv_rows for all to authenticated
  using (tenant_id in (select private.my_admin_tenant_ids()))
  with check (tenant_id in (select private.my_admin_tenant_ids()));

create policy campaign_recipients_member_select on public.campaign_recipients for select to authenticated
  using (tenant_id in (select private.my_tenant_ids()));
create policy campaign_recipients_admin_write on public.campaign_recipients for insert to authenticated
  with check (tenant_id in (select private.my_admin_tenant_ids()));
create policy campaign_recipients_admin_update on public.campaign_recipients for update to authenticated
  using (tenant_id in (select private.my_admin_tenant_ids()))
  with check (tenant_id in (select private.my_admin_tenant_ids()));

create policy campaign_pacing_admin_select on public.campaign_pacing for select to authenticated
  using (tenant_id in (select private.my_admin_tenant_ids()));

create policy opt_outs_member_select on public.opt_outs for select to authenticated
  using (tenant_id in (select private.my_tenant_ids()));
-- an opt-out is never deleted through the API: an opt-in sets opted_in_at (the history stays)
create policy opt_outs_admin_insert on public.opt_outs for insert to authenticated
  with check (tenant_id in (select private.my_admin_tenant_ids()));
create policy opt_outs_admin_update on public.opt_outs for update to authenticated
  using (tenant_id in (select private.my_admin_tenant_ids()))
  with check (tenant_id in (select private.my_admin_tenant_ids()));

create policy consent_records_admin_select on public.consent_records for select to authenticated
  using (tenant_id in (select private.my_admin_tenant_ids()));
create policy consent_records_admin_insert on public.consent_records for insert to authenticated
  with check (tenant_id in (select private.my_admin_tenant_ids()) and actor_user_id = (select auth.uid()));

create policy campaign_audit_member_select on public.campaign_audit for select to authenticated
  using (tenant_id in (select private.my_tenant_ids()));
create policy campaign_audit_admin_insert on public.campaign_audit for insert to authenticated
  with check (tenant_id in (select private.my_admin_tenant_ids()) and actor_user_id = (select auth.uid()));

-- A campaign's state and progress to the tenant (ponte.domain.realtime.CampaignPayload): counts only.
create or replace function private.on_campaign_broadcast() returns trigger
language plpgsql security definer set search_path = '' as $$
begin
  if tg_op = 'UPDATE' and new.status is not distinct from old.status and new.progress = old.progress
     and new.pause_code is not distinct from old.pause_code and new.name = old.name then
    return null;
  end if;
  perform private.broadcast_to_tenant(
    new.tenant_id, 'campaign_updated',
    jsonb_build_object(
      'id', new.id, 'tenant_id', new.tenant_id, 'instance_id', new.instance_id, 'name', new.name,
      'status', new.status, 'pause_code', new.pause_code, 'pause_reason', new.pause_reason,
      'approved_at', new.approved_at, 'started_at', new.started_at, 'completed_at', new.completed_at,
      'progress', new.progress, 'updated_at', new.updated_at
    )
  );
  return null;
end;
$$;

create trigger realtime_broadcast after insert or update on public.campaigns
  for each row execute function private.on_campaign_broadcast();

-- The purge registry: recipients and CSV rows name the person; the rest holds hashes or settings.
insert into private.contact_data (relation, predicate, purge_order) values
  ('public.campaign_recipients', 'tenant_id = $1 and (contact_id = any($2) or phone_e164 = any($3))', 6),
  ('public.campaign_csv_rows', 'tenant_id = $1 and phone_e164 = any($3)', 6),
  ('public.contact_tags', 'tenant_id = $1 and contact_id = any($2)', 6)
on conflict (relation) do update set predicate = excluded.predicate, exempt_reason = null,
  purge_order = excluded.purge_order;
insert into private.contact_data (relation, exempt_reason) values
  ('public.campaign_settings', 'campaign settings and templates, no contact data'),
  ('public.campaigns', 'campaign definitions and counts; CSV rows and recipients are registered on their own'),
  ('public.campaign_pacing', 'send pacing of the tenant''s own numbers, no contact data'),
  ('public.opt_outs', 'keyed hashes of opted-out numbers, kept on purpose so an erased person stays opted out'),
  ('public.consent_records', 'keyed hashes and consent events, never a number or content'),
  ('public.campaign_audit', 'who approved, started or paused a campaign, no contact data')
on conflict (relation) do nothing;
