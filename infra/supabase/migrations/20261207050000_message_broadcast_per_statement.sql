-- Message broadcasts once per statement, not once per row: the set-based ingest writes a batch's
-- messages with one INSERT, and one statement trigger turns them into their realtime rows with
-- one INSERT into realtime.messages (what realtime.send does row by row). Same topics, events and
-- payloads as the row trigger it replaces (20261123003000_realtime_broadcast.sql): message_created
-- and message_updated (only when the payload changed), to tenant:<id> and conversation:<id>.
-- Like realtime.send, a failure to broadcast is a warning and never aborts the write.

create or replace function private.on_messages_created_broadcast() returns trigger
language plpgsql security definer set search_path = '' as $$
begin
  begin
    insert into realtime.messages (id, payload, event, topic, private, extension)
    select gen_random_uuid(), private.realtime_message_payload(m), 'message_created', t.topic, true, 'broadcast'
    from created_messages m
    cross join lateral (values (1, 'tenant:' || m.tenant_id::text), (2, 'conversation:' || m.conversation_id::text))
      as t(n, topic)
    order by m.created_at, m.id, t.n;
  exception when others then
    raise warning 'WarnSendingBroadcastMessage: %', sqlerrm;
  end;
  return null;
end;
$$;

create or replace function private.on_messages_updated_broadcast() returns trigger
language plpgsql security definer set search_path = '' as $$
begin
  begin
    insert into realtime.messages (id, payload, event, topic, private, extension)
    select gen_random_uuid(), c.payload, 'message_updated', t.topic, true, 'broadcast'
    from (
      select n.tenant_id, n.conversation_id, n.id, private.realtime_message_payload(n) as payload,
             private.realtime_message_payload(o) as before
      from updated_messages n join previous_messages o on o.id = n.id
    ) c
    cross join lateral (values (1, 'tenant:' || c.tenant_id::text), (2, 'conversation:' || c.conversation_id::text))
      as t(n, topic)
    where c.payload is distinct from c.before
    order by c.id, t.n;
  exception when others then
    raise warning 'WarnSendingBroadcastMessage: %', sqlerrm;
  end;
  return null;
end;
$$;

drop trigger if exists realtime_broadcast on public.messages;
create trigger realtime_broadcast_created after insert on public.messages
  referencing new table as created_messages
  for each statement execute function private.on_messages_created_broadcast();
create trigger realtime_broadcast_updated after update on public.messages
  referencing old table as previous_messages new table as updated_messages
  for each statement execute function private.on_messages_updated_broadcast();

revoke all on function private.on_messages_created_broadcast(), private.on_messages_updated_broadcast()
  from public, anon, authenticated;
