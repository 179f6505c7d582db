-- Edits that arrive before their message (the ingest queue does not keep order, and a message
-- whose first delivery failed is retried after later ones). They wait here, in the private schema,
-- and are applied when the message is stored -- an accepted webhook is never lost. Revokes that
-- arrive early wait in private.pending_message_status as a 'deleted' status.
--
-- An edit holds message text, so it carries the identities of its chat (the purge of a hidden
-- contact finds it by them) and it expires: private.expire_pending_changes() drops what waited
-- longer than its message can still arrive (Evolution reports some edits with the instance's own
-- number as the chat, so expiry is what guarantees that such an edit leaves no trace).
create table private.pending_message_edits (
  tenant_id uuid not null references public.tenants (id) on delete cascade,
  instance_id uuid not null references public.whatsapp_instances (id) on delete cascade,
  provider_message_id text not null,  -- the message the edit points at
  body text,
  edited_at timestamptz not null,
  chat_identities text[] not null default '{}',
  received_at timestamptz not null default now(),
  primary key (tenant_id, instance_id, provider_message_id)
);
create index pending_message_edits_received_idx on private.pending_message_edits (received_at);
create index pending_message_status_received_idx on private.pending_message_status (received_at);
alter table private.pending_message_edits enable row level security;
revoke all on private.pending_message_edits from public, anon, authenticated;
grant select, insert, update, delete on private.pending_message_edits to service_role;

insert into private.contact_data (relation, predicate, purge_order) values
  ('private.pending_message_edits', 'tenant_id = $1 and chat_identities && $3', 5)
on conflict (relation) do update set predicate = excluded.predicate, exempt_reason = null,
  purge_order = excluded.purge_order;

-- What waited longer than p_max_age for its message: the message is not coming (it was sent
-- before the instance was connected, or dropped at intake). Returns the rows deleted per table.
create or replace function private.expire_pending_changes(p_max_age interval) returns jsonb
language plpgsql security definer set search_path = '' as $$
declare
  edits bigint;
  statuses bigint;
begin
  delete from private.pending_message_edits where received_at < now() - p_max_age;
  get diagnostics edits = row_count;
  delete from private.pending_message_status where received_at < now() - p_max_age;
  get diagnostics statuses = row_count;
  return jsonb_build_object('pending_message_edits', edits, 'pending_message_status', statuses);
end;
$$;
revoke all on function private.expire_pending_changes(interval) from public, anon, authenticated;
grant execute on function private.expire_pending_changes(interval) to service_role;
