-- Leads, message analyses, reply suggestions and agent corrections (issue 8).
--
-- A lead is created by the ingest function, in the same transaction as the first
-- inbound message of a contact; (tenant_id, contact_id) is unique so duplicate or
-- concurrent deliveries create it once. The analyze function stores one analysis
-- per message (a degraded one is replaced by the full one) with the lead score, its
-- parts, the priority and the SLA due time; the suggested reply is stored for the
-- agent and never sent automatically. RLS on every table.

create table public.leads (
  id uuid primary key default gen_random_uuid(),
  tenant_id uuid not null references public.tenants (id) on delete cascade,
  contact_id uuid not null references public.contacts (id) on delete cascade,
  -- the ERP record matched by canonical phone (any 9th-digit form); null when unknown
  customer_id uuid references public.customers (id) on delete set null,
  -- the contact was already an ERP customer when the lead was created
  returning_customer boolean not null default false,
  source text not null default 'organic' check (source in ('organic', 'ctwa_ad', 'search', 'deep_link')),
  source_id text,
  source_url text,
  first_message_id uuid references public.messages (id) on delete set null,
  conversation_id uuid references public.conversations (id) on delete set null,
  status text not null default 'new' check (status in ('new', 'open', 'won', 'lost')),
  score smallint check (score between 0 and 100),
  score_parts jsonb,
  priority text check (priority in ('low', 'medium', 'high', 'critical')),
  scored_at timestamptz,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  unique (tenant_id, contact_id)
);
create index leads_tenant_idx on public.leads (tenant_id, created_at desc);
create index leads_customer_idx on public.leads (customer_id);
create index leads_first_message_idx on public.leads (first_message_id);
create index leads_conversation_idx on public.leads (conversation_id);

create table public.message_analyses (
  id uuid primary key default gen_random_uuid(),
  tenant_id uuid not null references public.tenants (id) on delete cascade,
  message_id uuid not null references public.messages (id) on delete cascade,
  conversation_id uuid not null references public.conversations (id) on delete cascade,
  lead_id uuid references public.leads (id) on delete set null,
  sentiment text not null check (sentiment in ('negative', 'neutral', 'positive')),
  sentiment_score real not null check (sentiment_score between -1 and 1),
  intent text not null check (intent in ('purchase_interest', 'support_request', 'billing_payment',
    'billing_negotiation', 'billing_dispute', 'complaint', 'greeting', 'other')),
  intent_confidence real not null check (intent_confidence between 0 and 1),
  urgency text not null check (urgency in ('low', 'medium', 'high')),
  labels_source text not null,
  model text not null,
  -- true: fast-path labels while the worker was unavailable; the full analysis replaces it
  degraded boolean not null default false,
  score smallint not null check (score between 0 and 100),
  score_parts jsonb not null,
  priority text not null check (priority in ('low', 'medium', 'high', 'critical')),
  sla_due_at timestamptz not null,
  attempts integer not null default 1,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  unique (message_id)
);
create index message_analyses_tenant_idx on public.message_analyses (tenant_id, created_at desc);
create index message_analyses_conversation_idx on public.message_analyses (conversation_id);
create index message_analyses_lead_idx on public.message_analyses (lead_id);

create table public.reply_suggestions (
  id uuid primary key default gen_random_uuid(),
  tenant_id uuid not null references public.tenants (id) on delete cascade,
  message_id uuid not null references public.messages (id) on delete cascade,
  conversation_id uuid not null references public.conversations (id) on delete cascade,
  analysis_id uuid references public.message_analyses (id) on delete set null,
  text text not null check (char_length(text) between 1 and 1000),
  source text not null check (source in ('llm', 'template')),
  model text not null,
  -- what the agent did with it, recorded when the agent sends (or discards): never sent automatically
  outcome text check (outcome in ('as_is', 'edited', 'discarded')),
  final_text text,
  decided_by uuid references auth.users (id) on delete set null,
  decided_at timestamptz,
  created_at timestamptz not null default now(),
  unique (message_id),
  check ((outcome is null) = (decided_at is null)),
  check (outcome is distinct from 'edited' or final_text is not null)
);
create index reply_suggestions_tenant_idx on public.reply_suggestions (tenant_id, created_at desc);
create index reply_suggestions_conversation_idx on public.reply_suggestions (conversation_id);
create index reply_suggestions_analysis_idx on public.reply_suggestions (analysis_id);
create index reply_suggestions_decided_by_idx on public.reply_suggestions (decided_by);

-- An agent's correction of a message's labels; the latest one per message counts.
-- Together with the message text they are the tenant's example memory.
create table public.analysis_corrections (
  id uuid primary key default gen_random_uuid(),
  tenant_id uuid not null references public.tenants (id) on delete cascade,
  message_id uuid not null references public.messages (id) on delete cascade,
  sentiment text check (sentiment in ('negative', 'neutral', 'positive')),
  intent text check (intent in ('purchase_interest', 'support_request', 'billing_payment',
    'billing_negotiation', 'billing_dispute', 'complaint', 'greeting', 'other')),
  corrected_by uuid default auth.uid() references auth.users (id) on delete set null,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  unique (message_id),
  check (sentiment is not null or intent is not null)
);
create index analysis_corrections_tenant_idx on public.analysis_corrections (tenant_id, updated_at desc);
create index analysis_corrections_corrected_by_idx on public.analysis_corrections (corrected_by);

alter table public.leads enable row level security;
alter table public.message_analyses enable row level security;
alter table public.reply_suggestions enable row level security;
alter table public.analysis_corrections enable row level security;

-- Members read their tenant's leads and may move them through the funnel; the
-- functions (service role) create and score them.
create policy leads_member_select on public.leads for select to authenticated
  using (tenant_id in (select private.my_tenant_ids()));
create policy leads_member_update on public.leads for update to authenticated
  using (tenant_id in (select private.my_tenant_ids()))
  with check (tenant_id in (select private.my_tenant_ids()));

create policy message_analyses_member_select on public.message_analyses for select to authenticated
  using (tenant_id in (select private.my_tenant_ids()));

create policy reply_suggestions_member_select on public.reply_suggestions for select to authenticated
  using (tenant_id in (select private.my_tenant_ids()));
-- Members record the outcome (the text and the message stay what the function stored: see the grant below).
create policy reply_suggestions_member_update on public.reply_suggestions for update to authenticated
  using (tenant_id in (select private.my_tenant_ids()))
  with check (tenant_id in (select private.my_tenant_ids()));
revoke update on public.reply_suggestions from authenticated;
grant update (outcome, final_text, decided_by, decided_at) on public.reply_suggestions to authenticated;

create policy analysis_corrections_member_select on public.analysis_corrections for select to authenticated
  using (tenant_id in (select private.my_tenant_ids()));
-- The corrected message must be one of the same tenant that the caller can read.
create policy analysis_corrections_member_insert on public.analysis_corrections for insert to authenticated
  with check (
    tenant_id in (select private.my_tenant_ids())
    and corrected_by = (select auth.uid())
    and exists (select 1 from public.messages m where m.id = message_id and m.tenant_id = analysis_corrections.tenant_id)
  );
create policy analysis_corrections_member_update on public.analysis_corrections for update to authenticated
  using (tenant_id in (select private.my_tenant_ids()))
  with check (
    tenant_id in (select private.my_tenant_ids())
    and corrected_by = (select auth.uid())
    and exists (select 1 from public.messages m where m.id = message_id and m.tenant_id = analysis_corrections.tenant_id)
  );
