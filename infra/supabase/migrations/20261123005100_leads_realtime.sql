-- Realtime for leads and analyses (issue 8), through the broadcast helpers of
-- 20261123003000_realtime_broadcast.sql. Payloads are ponte.domain.realtime
-- LeadPayload, AnalysisPayload and SuggestionPayload.
--   tenant:<tenant_id>        lead_created, lead_scored, analysis_ready, suggestion_ready
--   conversation:<id>         analysis_ready, suggestion_ready

create or replace function private.realtime_lead_payload(l public.leads) returns jsonb
language sql stable set search_path = '' as $$
  select jsonb_build_object(
    'id', l.id, 'tenant_id', l.tenant_id, 'contact_id', l.contact_id, 'customer_id', l.customer_id,
    'returning_customer', l.returning_customer, 'source', l.source, 'source_id', l.source_id,
    'conversation_id', l.conversation_id, 'status', l.status, 'score', l.score, 'score_parts', l.score_parts,
    'priority', l.priority, 'scored_at', l.scored_at, 'created_at', l.created_at
  )
$$;

create or replace function private.on_lead_broadcast() returns trigger
language plpgsql security definer set search_path = '' as $$
begin
  if tg_op = 'INSERT' then
    perform private.broadcast_to_tenant(new.tenant_id, 'lead_created', private.realtime_lead_payload(new));
  elsif new.score is distinct from old.score or new.priority is distinct from old.priority
    or new.score_parts is distinct from old.score_parts then
    perform private.broadcast_to_tenant(new.tenant_id, 'lead_scored', private.realtime_lead_payload(new));
  end if;
  return null;
end;
$$;

create trigger realtime_broadcast after insert or update on public.leads
  for each row execute function private.on_lead_broadcast();

-- An analysis is ready when stored, and again when the full one replaces a degraded one.
create or replace function private.on_analysis_broadcast() returns trigger
language plpgsql security definer set search_path = '' as $$
declare
  payload jsonb := jsonb_build_object(
    'id', new.id, 'tenant_id', new.tenant_id, 'message_id', new.message_id,
    'conversation_id', new.conversation_id, 'lead_id', new.lead_id,
    'sentiment', new.sentiment, 'intent', new.intent, 'urgency', new.urgency, 'degraded', new.degraded,
    'score', new.score, 'score_parts', new.score_parts, 'priority', new.priority, 'sla_due_at', new.sla_due_at,
    'updated_at', new.updated_at
  );
begin
  perform private.broadcast_to_tenant(new.tenant_id, 'analysis_ready', payload);
  perform private.broadcast_to_conversation(new.conversation_id, 'analysis_ready', payload);
  return null;
end;
$$;

create trigger realtime_broadcast after insert or update on public.message_analyses
  for each row execute function private.on_analysis_broadcast();

create or replace function private.on_suggestion_broadcast() returns trigger
language plpgsql security definer set search_path = '' as $$
declare
  payload jsonb := jsonb_build_object(
    'id', new.id, 'tenant_id', new.tenant_id, 'message_id', new.message_id,
    'conversation_id', new.conversation_id, 'text', new.text, 'source', new.source,
    'outcome', new.outcome, 'created_at', new.created_at
  );
begin
  if tg_op = 'UPDATE' and new.text is not distinct from old.text and new.outcome is not distinct from old.outcome then
    return null;
  end if;
  perform private.broadcast_to_tenant(new.tenant_id, 'suggestion_ready', payload);
  perform private.broadcast_to_conversation(new.conversation_id, 'suggestion_ready', payload);
  return null;
end;
$$;

create trigger realtime_broadcast after insert or update on public.reply_suggestions
  for each row execute function private.on_suggestion_broadcast();
