-- When a payload proves two contacts to be one person, their conversations on an instance are
-- folded into one (ponte.adapters.postgres.contacts). The UIs are told which conversation went
-- and where its messages are now: 'conversation_merged' on the tenant topic, payload
-- ponte.domain.realtime.ConversationMergedPayload. Called by the ingest (service role) in the
-- transaction that folds, so it is announced at commit only.
create or replace function private.announce_conversation_merged(p_from uuid, p_into uuid) returns void
language plpgsql volatile security definer set search_path = '' as $$
declare
  target public.conversations%rowtype;
begin
  select * into target from public.conversations where id = p_into;
  if not found then
    return;
  end if;
  perform private.broadcast_to_tenant(
    target.tenant_id,
    'conversation_merged',
    jsonb_build_object('id', p_from, 'tenant_id', target.tenant_id, 'merged_into', p_into)
  );
end;
$$;
revoke all on function private.announce_conversation_merged(uuid, uuid) from public, anon, authenticated;
grant execute on function private.announce_conversation_merged(uuid, uuid) to service_role;
