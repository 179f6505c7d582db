-- A conversation that is deleted -- its contact hidden or erased (the purge), or folded into the
-- same person's other thread -- is announced to the tenant, so that open inboxes drop it at once
-- instead of showing it until the next reload: 'conversation_deleted', payload
-- ponte.domain.realtime.ConversationDeletedPayload (ids only: nothing of the person). The purge
-- deletes conversations with session_replication_role = replica (fast delete), which silences
-- ordinary triggers; this one is ENABLE ALWAYS so that it fires there too.
create or replace function private.on_conversations_deleted() returns trigger
language plpgsql security definer set search_path = '' as $$
declare
  gone record;
begin
  for gone in select id, tenant_id from deleted_conversations order by id loop
    perform private.broadcast_to_tenant(
      gone.tenant_id, 'conversation_deleted', jsonb_build_object('id', gone.id, 'tenant_id', gone.tenant_id)
    );
  end loop;
  return null;
end;
$$;

create trigger realtime_broadcast_deleted after delete on public.conversations
  referencing old table as deleted_conversations
  for each statement execute function private.on_conversations_deleted();
alter table public.conversations enable always trigger realtime_broadcast_deleted;
