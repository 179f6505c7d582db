-- Agent operations (issue 17): the conversation lifecycle, teams and routing rules as data,
-- assignment, agent presence, internal notes with mentions, protocol numbers, CSAT answers,
-- and automatic messages through the one outbox (public.outbound_messages).
--
-- The state machine itself is ponte/domain/lifecycle.py; the database keeps its state on the
-- conversation and one row per transition (and per human reply) in public.conversation_events,
-- which the KPIs are computed from. Nothing here adds a trigger or a statement to the message
-- insert path: the lifecycle runs in its own function (queue ponte-lifecycle), after ingest.

-- Teams (queues) and their members.
create table public.teams (
  id uuid primary key default gen_random_uuid(),
  tenant_id uuid not null references public.tenants (id) on delete cascade,
  name text not null check (length(btrim(name)) between 1 and 80),
  -- who gets the next conversation: the member longest without one, or the one holding fewest
  assignment_order text not null default 'round_robin' check (assignment_order in ('round_robin', 'least_loaded')),
  auto_assign boolean not null default true,
  agent_capacity integer check (agent_capacity between 1 and 1000),  -- open conversations per agent; null: no cap
  -- fair distribution: at most fair_limit automatic assignments per agent per window
  fair_limit integer not null default 30 check (fair_limit between 1 and 10000),
  fair_window_seconds integer not null default 3600 check (fair_window_seconds between 60 and 86400),
  created_at timestamptz not null default now()
);
create unique index teams_name_idx on public.teams (tenant_id, lower(name));

create table public.team_members (
  tenant_id uuid not null,
  team_id uuid not null references public.teams (id) on delete cascade,
  user_id uuid not null,
  last_assigned_at timestamptz,  -- round robin: the member longest without a conversation goes next
  created_at timestamptz not null default now(),
  primary key (team_id, user_id),
  -- only members of the tenant: leaving the tenant leaves its teams
  foreign key (tenant_id, user_id) references public.memberships (tenant_id, user_id) on delete cascade
);
create index team_members_user_idx on public.team_members (tenant_id, user_id);

-- Presence: a heartbeat; a row older than the tenant's TTL reads as offline.
create table public.agent_presence (
  tenant_id uuid not null,
  user_id uuid not null,
  status text not null check (status in ('online', 'away', 'offline')),
  last_seen_at timestamptz not null default now(),
  changed_at timestamptz not null default now(),
  primary key (tenant_id, user_id),
  foreign key (tenant_id, user_id) references public.memberships (tenant_id, user_id) on delete cascade
);

-- Routing rules: evaluated in position order on the first analysis of a cycle (first match wins).
-- conditions: ponte.domain.routing.RuleConditions (intents with 'billing_*' prefixes, urgencies,
-- sentiments, priorities, instance ids); action 'team' queues it, 'bot_resolve' lets automation close it.
create table public.routing_rules (
  id uuid primary key default gen_random_uuid(),
  tenant_id uuid not null references public.tenants (id) on delete cascade,
  position integer not null check (position between 0 and 999),
  name text not null check (length(name) between 1 and 80),
  conditions jsonb not null default '{}'::jsonb,
  action text not null check (action in ('team', 'bot_resolve')),
  team_id uuid references public.teams (id) on delete cascade,
  enabled boolean not null default true,
  created_at timestamptz not null default now(),
  check ((action = 'team') = (team_id is not null)),
  unique (tenant_id, position)
);

-- Per-tenant operations settings (ponte.domain.operations.OperationsSettings, validated there):
-- default team, automatic messages (each off until turned on) and their pt-BR templates,
-- presence TTL, the reassignment cooldown, CSAT window.
create table public.operations_settings (
  tenant_id uuid primary key references public.tenants (id) on delete cascade,
  settings jsonb not null default '{}'::jsonb,
  updated_by uuid references auth.users (id) on delete set null,
  updated_at timestamptz not null default now()
);

-- The lifecycle on the conversation: its state, team, protocol and cycle (a cycle runs from the
-- customer's message that opened it to its resolution; a message after that opens the next one).
alter table public.conversations
  add column state text not null default 'bot'
    check (state in ('bot', 'waiting', 'in_service', 'snoozed', 'resolved')),
  add column team_id uuid references public.teams (id) on delete set null,
  add column protocol text,
  add column cycle integer not null default 1,
  add column cycle_started_at timestamptz,
  add column state_changed_at timestamptz not null default now(),
  add column snoozed_until timestamptz,
  add column queued_at timestamptz,          -- entered the team's queue (waiting)
  add column assigned_at timestamptz,
  add column waiting_since timestamptz,      -- the customer waits for a human reply since
  add column first_response_at timestamptz,  -- this cycle's first human reply
  add column previous_assignee uuid,         -- transferred away from: not given back during the cooldown
  add column csat_requested_at timestamptz;

-- Existing conversations: closed ones are resolved, assigned ones in service, the rest queued.
update public.conversations set state = case
    when status = 'closed' then 'resolved' when assigned_to is not null then 'in_service' else 'waiting' end,
  cycle_started_at = created_at
where true;

-- `status` stays meaningful for the read API and existing clients: closed exactly when resolved.
alter table public.conversations
  add constraint conversations_status_follows_state check ((state = 'resolved') = (status = 'closed'));

create index conversations_queue_idx on public.conversations (tenant_id, team_id, queued_at)
  where state = 'waiting';
create index conversations_load_idx on public.conversations (tenant_id, assigned_to)
  where state in ('in_service', 'snoozed');
create index conversations_snoozed_idx on public.conversations (snoozed_until) where state = 'snoozed';
create index conversations_bot_idx on public.conversations (state_changed_at) where state = 'bot';
create unique index conversations_protocol_idx on public.conversations (tenant_id, protocol)
  where protocol is not null;

-- Protocol numbers: YYYYMMDD (the tenant's local day) + a per-tenant daily sequence of 6 digits.
create table private.protocol_counters (
  tenant_id uuid not null references public.tenants (id) on delete cascade,
  day date not null,
  last bigint not null,
  primary key (tenant_id, day)
);
revoke all on private.protocol_counters from public, anon, authenticated;

create or replace function private.next_protocol(p_tenant uuid, p_day date) returns text
language sql volatile security definer set search_path = '' as $$
  insert into private.protocol_counters as c (tenant_id, day, last) values (p_tenant, p_day, 1)
  on conflict (tenant_id, day) do update set last = c.last + 1
  returning to_char(c.day, 'YYYYMMDD') || lpad(c.last::text, 6, '0')
$$;
revoke all on function private.next_protocol(uuid, date) from public, anon, authenticated;
grant execute on function private.next_protocol(uuid, date) to service_role;

-- One row per lifecycle transition and per human reply: the audit trail and what KPIs read.
create table public.conversation_events (
  id bigint generated always as identity primary key,
  tenant_id uuid not null references public.tenants (id) on delete cascade,
  conversation_id uuid not null references public.conversations (id) on delete cascade,
  instance_id uuid not null,
  cycle integer not null,
  kind text not null check (kind in ('transition', 'first_response', 'reply', 'csat')),
  action text,                 -- transitions: open, route, assign, transfer, snooze, wake, resolve, reopen
  from_state text,
  to_state text,
  actor_type text not null check (actor_type in ('system', 'agent', 'rule', 'customer')),
  actor_id uuid,
  reason text check (length(reason) <= 500),
  team_id uuid,
  agent_id uuid,               -- the assignee after the event (the replying agent for replies)
  message_id uuid,
  -- seconds measured by the event: first response / reply wait, queue wait (assign), resolution
  value_seconds double precision,
  business_seconds double precision,
  occurred_at timestamptz not null default now()
);
create index conversation_events_tenant_idx on public.conversation_events (tenant_id, occurred_at);
create index conversation_events_conversation_idx on public.conversation_events (conversation_id, id);
-- fair distribution: an agent's automatic assignments within the window
create index conversation_events_assign_idx on public.conversation_events (agent_id, occurred_at)
  where action = 'assign';
-- a reply is counted once, whichever path saw it first (the proxy's send or the ingest of its echo)
create unique index conversation_events_reply_once on public.conversation_events (message_id, kind)
  where message_id is not null and kind in ('first_response', 'reply');

-- Internal notes: never sent to WhatsApp, never a reply for the clocks.
create table public.conversation_notes (
  id uuid primary key default gen_random_uuid(),
  tenant_id uuid not null references public.tenants (id) on delete cascade,
  conversation_id uuid not null references public.conversations (id) on delete cascade,
  author_id uuid references auth.users (id) on delete set null,
  body text not null check (length(body) between 1 and 4000),
  mentions uuid[] not null default '{}' check (cardinality(mentions) <= 20),
  created_at timestamptz not null default now()
);
create index conversation_notes_conversation_idx on public.conversation_notes (conversation_id, created_at desc);
create index conversation_notes_tenant_idx on public.conversation_notes (tenant_id);

-- CSAT: the customer's 1-5 answer to the question sent after a resolution, once per cycle.
create table public.csat_responses (
  id uuid primary key default gen_random_uuid(),
  tenant_id uuid not null references public.tenants (id) on delete cascade,
  conversation_id uuid not null references public.conversations (id) on delete cascade,
  cycle integer not null,
  protocol text,
  score smallint not null check (score between 1 and 5),
  message_id uuid references public.messages (id) on delete set null,
  agent_id uuid,
  team_id uuid,
  answered_at timestamptz not null,
  unique (conversation_id, cycle)
);
create index csat_responses_tenant_idx on public.csat_responses (tenant_id, answered_at);

-- Automatic messages share the outbox with agents' sends, marked by origin.
alter table public.outbound_messages
  add column origin text not null default 'agent' check (origin in ('agent', 'automatic', 'campaign')),
  add column automatic_kind text
    check (automatic_kind in ('greeting', 'away', 'queue_position', 'csat_request', 'csat_thanks')),
  add constraint outbound_messages_automatic_kind check ((origin = 'automatic') = (automatic_kind is not null));

-- Row-level security.
alter table public.teams enable row level security;
alter table public.team_members enable row level security;
alter table public.agent_presence enable row level security;
alter table public.routing_rules enable row level security;
alter table public.operations_settings enable row level security;
alter table public.conversation_events enable row level security;
alter table public.conversation_notes enable row level security;
alter table public.csat_responses enable row level security;

create policy teams_member_select on public.teams for select to authenticated
  using (tenant_id in (select private.my_tenant_ids()));
create policy teams_admin_write on public.teams for all to authenticated
  using (tenant_id in (select private.my_admin_tenant_ids()))
  with check (tenant_id in (select private.my_admin_tenant_ids()));

create policy team_members_member_select on public.team_members for select to authenticated
  using (tenant_id in (select private.my_tenant_ids()));
create policy team_members_admin_write on public.team_members for all to authenticated
  using (tenant_id in (select private.my_admin_tenant_ids()))
  with check (tenant_id in (select private.my_admin_tenant_ids()));

-- everyone in the tenant sees who is online; each member moves only their own presence
create policy agent_presence_member_select on public.agent_presence for select to authenticated
  using (tenant_id in (select private.my_tenant_ids()));
create policy agent_presence_own_insert on public.agent_presence for insert to authenticated
  with check (user_id = (select auth.uid()) and tenant_id in (select private.my_tenant_ids()));
create policy agent_presence_own_update on public.agent_presence for update to authenticated
  using (user_id = (select auth.uid()) and tenant_id in (select private.my_tenant_ids()))
  with check (user_id = (select auth.uid()) and tenant_id in (select private.my_tenant_ids()));

create policy routing_rules_member_select on public.routing_rules for select to authenticated
  using (tenant_id in (select private.my_tenant_ids()));
create policy routing_rules_admin_write on public.routing_rules for all to authenticated
  using (tenant_id in (select private.my_admin_tenant_ids()))
  with check (tenant_id in (select private.my_admin_tenant_ids()));

create policy operations_settings_member_select on public.operations_settings for select to authenticated
  using (tenant_id in (select private.my_tenant_ids()));
create policy operations_settings_admin_write on public.operations_settings for all to authenticated
  using (tenant_id in (select private.my_admin_tenant_ids()))
  with check (tenant_id in (select private.my_admin_tenant_ids()));

-- the audit trail is written by the lifecycle service only
create policy conversation_events_member_select on public.conversation_events for select to authenticated
  using (tenant_id in (select private.my_tenant_ids()));

-- notes: the tenant's members read them; a member writes as themselves and deletes their own
create policy conversation_notes_member_select on public.conversation_notes for select to authenticated
  using (tenant_id in (select private.my_tenant_ids()));
create policy conversation_notes_own_insert on public.conversation_notes for insert to authenticated
  with check (
    author_id = (select auth.uid()) and tenant_id in (select private.my_tenant_ids())
    and conversation_id in (select c.id from public.conversations c where c.tenant_id = conversation_notes.tenant_id)
  );
create policy conversation_notes_own_delete on public.conversation_notes for delete to authenticated
  using (author_id = (select auth.uid()) and tenant_id in (select private.my_tenant_ids()));

create policy csat_responses_member_select on public.csat_responses for select to authenticated
  using (tenant_id in (select private.my_tenant_ids()));

-- Realtime: a user's own topic `user:<user id>` (mentions), for that user only.
create or replace function private.realtime_topic_allowed(topic text) returns boolean
language plpgsql stable security definer set search_path = '' as $$
declare
  uuid_re constant text := '[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}';
begin
  if topic is null then
    return false;
  elsif topic ~ ('^tenant:' || uuid_re || '$') then
    return substring(topic from 8)::uuid in (select private.my_tenant_ids());
  elsif topic ~ ('^tenant:' || uuid_re || ':admin$') then
    return substring(topic from 8 for 36)::uuid in (select private.my_admin_tenant_ids());
  elsif topic ~ ('^conversation:' || uuid_re || '$') then
    return exists (
      select 1 from public.conversations c
      where c.id = substring(topic from 14)::uuid and c.tenant_id in (select private.my_tenant_ids())
    );
  elsif topic ~ ('^user:' || uuid_re || '$') then
    return substring(topic from 6)::uuid = (select auth.uid());
  end if;
  return false;
end;
$$;

create or replace function private.broadcast_to_user(user_id uuid, event text, payload jsonb) returns void
language sql volatile security definer set search_path = '' as $$
  select private.broadcast('user:' || user_id::text, event, payload)
$$;
revoke all on function private.broadcast_to_user(uuid, text, jsonb) from public, anon, authenticated;

-- Conversations: the lifecycle's fields join what conversation_updated reports.
-- The payload is ponte.domain.realtime.ConversationPayload.
create or replace function private.on_conversation_broadcast() returns trigger
language plpgsql security definer set search_path = '' as $$
declare
  changed text[] := '{}';
begin
  if tg_op = 'UPDATE' then
    if new.priority is distinct from old.priority then changed := changed || 'priority'::text; end if;
    if new.sla_due_at is distinct from old.sla_due_at then changed := changed || 'sla_due_at'::text; end if;
    if new.assigned_to is distinct from old.assigned_to then changed := changed || 'assigned_to'::text; end if;
    if new.status is distinct from old.status then changed := changed || 'status'::text; end if;
    if new.state is distinct from old.state then changed := changed || 'state'::text; end if;
    if new.team_id is distinct from old.team_id then changed := changed || 'team_id'::text; end if;
    if new.protocol is distinct from old.protocol then changed := changed || 'protocol'::text; end if;
    if new.snoozed_until is distinct from old.snoozed_until then changed := changed || 'snoozed_until'::text; end if;
    if cardinality(changed) = 0 then
      return null;
    end if;
  end if;
  perform private.broadcast_to_tenant(
    new.tenant_id,
    case when tg_op = 'INSERT' then 'conversation_created' else 'conversation_updated' end,
    jsonb_build_object(
      'id', new.id, 'tenant_id', new.tenant_id, 'instance_id', new.instance_id, 'contact_id', new.contact_id,
      'priority', new.priority, 'sla_due_at', new.sla_due_at, 'assigned_to', new.assigned_to,
      'status', new.status, 'state', new.state, 'team_id', new.team_id, 'protocol', new.protocol,
      'cycle', new.cycle, 'snoozed_until', new.snoozed_until,
      'last_message_at', new.last_message_at, 'created_at', new.created_at,
      'changed', to_jsonb(changed)
    )
  );
  return null;
end;
$$;

-- Every lifecycle event, to the tenant (ponte.domain.realtime.ConversationEventPayload).
create or replace function private.on_conversation_event_broadcast() returns trigger
language plpgsql security definer set search_path = '' as $$
begin
  perform private.broadcast_to_tenant(
    new.tenant_id, 'conversation_event',
    jsonb_build_object(
      'id', new.id, 'tenant_id', new.tenant_id, 'conversation_id', new.conversation_id,
      'instance_id', new.instance_id, 'cycle', new.cycle, 'kind', new.kind, 'action', new.action,
      'from_state', new.from_state, 'to_state', new.to_state, 'actor_type', new.actor_type,
      'actor_id', new.actor_id, 'reason', new.reason, 'team_id', new.team_id, 'agent_id', new.agent_id,
      'message_id', new.message_id, 'value_seconds', new.value_seconds, 'occurred_at', new.occurred_at
    )
  );
  return null;
end;
$$;

create trigger realtime_broadcast after insert on public.conversation_events
  for each row execute function private.on_conversation_event_broadcast();

-- Notes to the tenant and the conversation; a mention to the mentioned member's own topic.
-- Payloads: ponte.domain.realtime.NotePayload and MentionPayload.
create or replace function private.on_note_broadcast() returns trigger
language plpgsql security definer set search_path = '' as $$
declare
  payload jsonb := jsonb_build_object(
    'id', new.id, 'tenant_id', new.tenant_id, 'conversation_id', new.conversation_id,
    'author_id', new.author_id, 'body', new.body, 'mentions', to_jsonb(new.mentions),
    'created_at', new.created_at
  );
  mentioned uuid;
begin
  perform private.broadcast_to_tenant(new.tenant_id, 'note_created', payload);
  perform private.broadcast_to_conversation(new.conversation_id, 'note_created', payload);
  foreach mentioned in array new.mentions loop
    perform private.broadcast_to_user(
      mentioned, 'mentioned',
      jsonb_build_object(
        'note_id', new.id, 'tenant_id', new.tenant_id, 'conversation_id', new.conversation_id,
        'author_id', new.author_id, 'excerpt', left(new.body, 160), 'created_at', new.created_at
      )
    );
  end loop;
  return null;
end;
$$;

create trigger realtime_broadcast after insert on public.conversation_notes
  for each row execute function private.on_note_broadcast();

-- Presence changes, to the tenant (ponte.domain.realtime.PresencePayload).
create or replace function private.on_presence_broadcast() returns trigger
language plpgsql security definer set search_path = '' as $$
begin
  if tg_op = 'UPDATE' and new.status is not distinct from old.status then
    return null;
  end if;
  perform private.broadcast_to_tenant(
    new.tenant_id, 'agent_presence_changed',
    jsonb_build_object('tenant_id', new.tenant_id, 'user_id', new.user_id, 'status', new.status,
      'changed_at', new.changed_at)
  );
  return null;
end;
$$;

create trigger realtime_broadcast after insert or update on public.agent_presence
  for each row execute function private.on_presence_broadcast();

-- The purge registry: what names a conversation goes with it; configuration has no contact data.
insert into private.contact_data (relation, predicate, purge_order) values
  ('public.conversation_events', 'tenant_id = $1 and conversation_id = any($4)', 5),
  ('public.conversation_notes', 'tenant_id = $1 and conversation_id = any($4)', 5),
  ('public.csat_responses', 'tenant_id = $1 and conversation_id = any($4)', 5)
on conflict (relation) do update set predicate = excluded.predicate, exempt_reason = null,
  purge_order = excluded.purge_order;
insert into private.contact_data (relation, exempt_reason) values
  ('public.teams', 'the tenant''s teams, no contact data'),
  ('public.team_members', 'the tenant''s agents in teams, no contact data'),
  ('public.agent_presence', 'the tenant''s agents'' presence, no contact data'),
  ('public.routing_rules', 'routing configuration, no contact data'),
  ('public.operations_settings', 'automation settings and templates, no contact data'),
  ('private.protocol_counters', 'daily counters of protocol numbers, no contact data')
on conflict (relation) do nothing;
-- mentions on users' own topics name the conversation too
update private.contact_data set predicate =
  'topic = any(array(select ''conversation:'' || c::text from unnest($4) c))'
  ' or (topic = ''tenant:'' || $1::text and (payload ->> ''contact_id'' = any($2::text[])'
  ' or payload ->> ''conversation_id'' = any($4::text[])))'
  ' or (topic like ''user:%'' and payload ->> ''tenant_id'' = $1::text'
  ' and payload ->> ''conversation_id'' = any($4::text[]))'
where relation = 'realtime.messages';
