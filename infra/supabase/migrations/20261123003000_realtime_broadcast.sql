-- Realtime to the web UIs: broadcast from database on private topics.
--
-- Topics (the catalogue is frontend_contract/catalogue.json, generated from
-- ponte/domain/realtime.py; keep the two in step):
--   tenant:<tenant_id>          members of the tenant   message_*, conversation_*
--   tenant:<tenant_id>:admin    owners and admins       instance_*, diagnostic_recorded
--   conversation:<id>           members of its tenant   message_*
-- Every topic is private: a client joins with config.private = true and is
-- authorized by the select policy on realtime.messages below (Supabase checks it
-- at join with realtime.topic() set to the topic). Clients cannot write.
--
-- Triggers call realtime.send (never raises: a failed broadcast is a warning and never
-- aborts the write) through the security-definer helpers below, so the caller's RLS on
-- realtime.messages does not apply. Other migrations call the same helpers:
--   perform private.broadcast_to_tenant(tenant_id, 'lead_created', jsonb_build_object(...));
--   perform private.broadcast_to_tenant_admins(tenant_id, 'instance_qr_updated', ...);

-- Which topics the current user may read: a tenant they belong to, its admin topic if
-- they are owner or admin, a conversation of a tenant they belong to. Anything else
-- (including malformed ids) is false, never an error.
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
  end if;
  return false;
end;
$$;

revoke all on function private.realtime_topic_allowed(text) from public;
grant execute on function private.realtime_topic_allowed(text) to authenticated, service_role;

-- Evaluated once per statement (initplan), not per row of realtime.messages.
create policy ponte_members_read_private_topics on realtime.messages
  for select to authenticated
  using (
    realtime.messages.extension = 'broadcast'
    and (select private.realtime_topic_allowed((select realtime.topic())))
  );

-- The helpers other migrations' trigger functions call. SECURITY DEFINER so that any
-- writer (service role, an agent through RLS) can trigger a broadcast; execute is
-- revoked from the API roles so that nobody sends forged events through the REST API.
create or replace function private.broadcast(topic text, event text, payload jsonb) returns void
language plpgsql volatile security definer set search_path = '' as $$
begin
  perform realtime.send(payload, event, topic, true);
end;
$$;

create or replace function private.broadcast_to_tenant(tenant_id uuid, event text, payload jsonb) returns void
language sql volatile security definer set search_path = '' as $$
  select private.broadcast('tenant:' || tenant_id::text, event, payload)
$$;

create or replace function private.broadcast_to_tenant_admins(tenant_id uuid, event text, payload jsonb)
returns void
language sql volatile security definer set search_path = '' as $$
  select private.broadcast('tenant:' || tenant_id::text || ':admin', event, payload)
$$;

create or replace function private.broadcast_to_conversation(conversation_id uuid, event text, payload jsonb)
returns void
language sql volatile security definer set search_path = '' as $$
  select private.broadcast('conversation:' || conversation_id::text, event, payload)
$$;

revoke all on function private.broadcast(text, text, jsonb),
  private.broadcast_to_tenant(uuid, text, jsonb),
  private.broadcast_to_tenant_admins(uuid, text, jsonb),
  private.broadcast_to_conversation(uuid, text, jsonb)
  from public, anon, authenticated;

-- Messages: created and updated (status, edits, revokes), to the tenant and to the
-- conversation. The payload is ponte.domain.realtime.MessagePayload.
create or replace function private.realtime_message_payload(m public.messages) returns jsonb
language sql stable set search_path = '' as $$
  select jsonb_build_object(
    'id', m.id, 'tenant_id', m.tenant_id, 'instance_id', m.instance_id,
    'conversation_id', m.conversation_id, 'contact_id', m.contact_id,
    'direction', m.direction, 'kind', m.kind, 'body', m.body, 'media', m.media,
    'quoted_message_id', m.quoted_message_id, 'status', m.status,
    'occurred_at', m.occurred_at, 'created_at', m.created_at
  )
$$;

create or replace function private.on_message_broadcast() returns trigger
language plpgsql security definer set search_path = '' as $$
declare
  event text := case when tg_op = 'INSERT' then 'message_created' else 'message_updated' end;
  payload jsonb := private.realtime_message_payload(new);
begin
  if tg_op = 'UPDATE' and private.realtime_message_payload(old) = payload then
    return null;
  end if;
  perform private.broadcast_to_tenant(new.tenant_id, event, payload);
  perform private.broadcast_to_conversation(new.conversation_id, event, payload);
  return null;
end;
$$;

create trigger realtime_broadcast after insert or update on public.messages
  for each row execute function private.on_message_broadcast();

-- Conversations: created, and updated when what an inbox shows changes (priority,
-- SLA, assignment, status); last_message_at moves with every message and is left to
-- message_created. The payload is ponte.domain.realtime.ConversationPayload.
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
      'status', new.status, 'last_message_at', new.last_message_at, 'created_at', new.created_at,
      'changed', to_jsonb(changed)
    )
  );
  return null;
end;
$$;

create trigger realtime_broadcast after insert or update on public.conversations
  for each row execute function private.on_conversation_broadcast();

-- WhatsApp instances: status changes, to the admins only.
-- The payload is ponte.domain.realtime.InstanceStatusPayload.
create or replace function private.on_instance_status_broadcast() returns trigger
language plpgsql security definer set search_path = '' as $$
begin
  if new.status is not distinct from old.status then
    return null;
  end if;
  perform private.broadcast_to_tenant_admins(
    new.tenant_id, 'instance_status_changed',
    jsonb_build_object(
      'id', new.id, 'tenant_id', new.tenant_id, 'provider', new.provider,
      'gateway_instance', new.gateway_instance, 'status', new.status, 'previous_status', old.status
    )
  );
  return null;
end;
$$;

create trigger realtime_broadcast_status after update of status on public.whatsapp_instances
  for each row execute function private.on_instance_status_broadcast();

-- Diagnostics: every rejected proxy call, to the admins only (the whole log is read
-- through the REST surface; accepted calls would only be noise on a live screen).
-- The payload is ponte.domain.realtime.DiagnosticPayload.
create or replace function private.on_diagnostic_broadcast() returns trigger
language plpgsql security definer set search_path = '' as $$
begin
  perform private.broadcast_to_tenant_admins(
    new.tenant_id, 'diagnostic_recorded',
    jsonb_build_object(
      'id', new.id, 'tenant_id', new.tenant_id, 'instance_id', new.instance_id,
      'occurred_at', new.occurred_at, 'route', new.route, 'event', new.event, 'outcome', new.outcome,
      'status_code', new.status_code, 'latency_ms', new.latency_ms, 'error_code', new.error_code
    )
  );
  return null;
end;
$$;

create trigger realtime_broadcast after insert on public.proxy_diagnostics
  for each row when (new.tenant_id is not null and new.outcome = 'rejected')
  execute function private.on_diagnostic_broadcast();

-- postgres_changes (RLS-filtered per subscriber) on the inbox tables, for clients that
-- prefer it; the private broadcast topics above are the recommended path.
alter publication supabase_realtime add table public.messages, public.conversations;
