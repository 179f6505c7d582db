-- The inbox read API (issue 13): each user's read state per conversation, and the indexes the
-- inbox page, the message history and the unread counts read by.

create table public.conversation_reads (
  tenant_id uuid not null references public.tenants (id) on delete cascade,
  conversation_id uuid not null references public.conversations (id) on delete cascade,
  user_id uuid not null references auth.users (id) on delete cascade,
  read_at timestamptz not null,
  primary key (conversation_id, user_id)
);
create index conversation_reads_user_idx on public.conversation_reads (user_id);
create index conversation_reads_tenant_idx on public.conversation_reads (tenant_id);

alter table public.conversation_reads enable row level security;

-- A member reads and moves only their own read marks, on conversations they can see.
create policy conversation_reads_own_select on public.conversation_reads for select to authenticated
  using (user_id = (select auth.uid()) and tenant_id in (select private.my_tenant_ids()));
create policy conversation_reads_own_insert on public.conversation_reads for insert to authenticated
  with check (
    user_id = (select auth.uid()) and tenant_id in (select private.my_tenant_ids())
    and conversation_id in (select c.id from public.conversations c where c.tenant_id = conversation_reads.tenant_id)
  );
create policy conversation_reads_own_update on public.conversation_reads for update to authenticated
  using (user_id = (select auth.uid()) and tenant_id in (select private.my_tenant_ids()))
  with check (user_id = (select auth.uid()) and tenant_id in (select private.my_tenant_ids()));

-- Read marks go with the conversation when a contact is hidden or erased.
insert into private.contact_data (relation, predicate, purge_order) values
  ('public.conversation_reads', 'tenant_id = $1 and conversation_id = any($4)', 5)
on conflict (relation) do update set predicate = excluded.predicate, exempt_reason = null,
  purge_order = excluded.purge_order;

-- The inbox: newest activity first, keyset on (activity, id), per tenant.
create index conversations_inbox_idx on public.conversations
  (tenant_id, (coalesce(last_message_at, created_at)) desc, id desc);
-- History pages: keyset on (occurred_at, id) within a conversation.
drop index if exists public.messages_conversation_idx;
create index messages_conversation_idx on public.messages (conversation_id, occurred_at desc, id desc);
-- Unread counts: inbound messages after a read mark.
create index messages_inbound_idx on public.messages (conversation_id, occurred_at) where direction = 'in';
-- The latest analysis of a conversation.
drop index if exists public.message_analyses_conversation_idx;
create index message_analyses_conversation_idx on public.message_analyses (conversation_id, created_at desc);
-- A message's send state.
create index if not exists outbound_messages_message_idx on public.outbound_messages (message_id)
  where message_id is not null;
