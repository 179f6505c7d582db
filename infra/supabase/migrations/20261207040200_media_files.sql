-- Media both ways (issue 18): received files fetched into the media bucket, files agents upload to
-- send, and the objects a purge leaves to delete.

-- A received media message's file: pending (its job is queued) -> stored | too_large | failed.
-- One row per media message, written by the media function (never by the messages insert path).
create table public.message_media (
  message_id uuid primary key references public.messages (id) on delete cascade,
  tenant_id uuid not null references public.tenants (id) on delete cascade,
  conversation_id uuid not null references public.conversations (id) on delete cascade,
  state text not null default 'pending' check (state in ('pending', 'stored', 'too_large', 'failed')),
  object_key text,                 -- the bucket key once stored
  content_type text,               -- sniffed from the bytes
  size_bytes bigint,
  error_code text,
  transcript text,                 -- a voice note's text, when a transcriber is configured
  updated_at timestamptz not null default now()
);
create index message_media_tenant_idx on public.message_media (tenant_id);
create index message_media_conversation_idx on public.message_media (conversation_id);

alter table public.message_media enable row level security;
create policy message_media_member_select on public.message_media for select to authenticated
  using (tenant_id in (select private.my_tenant_ids()));

-- A file an agent uploads (through a signed upload URL) to send in a conversation.
create table public.media_uploads (
  id uuid primary key default gen_random_uuid(),
  tenant_id uuid not null references public.tenants (id) on delete cascade,
  conversation_id uuid references public.conversations (id) on delete cascade,
  kind text not null check (kind in ('image', 'document', 'audio', 'video')),
  filename text check (length(filename) <= 240),
  max_bytes bigint not null,
  object_key text not null,
  created_by uuid references auth.users (id) on delete set null,
  created_at timestamptz not null default now()
);
create index media_uploads_tenant_idx on public.media_uploads (tenant_id, created_at);
create index media_uploads_conversation_idx on public.media_uploads (conversation_id);

alter table public.media_uploads enable row level security;
create policy media_uploads_member_select on public.media_uploads for select to authenticated
  using (tenant_id in (select private.my_tenant_ids()));
create policy media_uploads_member_insert on public.media_uploads for insert to authenticated
  with check (tenant_id in (select private.my_tenant_ids()) and created_by = (select auth.uid()));

-- Objects to delete from the bucket: every deleted row that named one (a purge, an erased contact, a
-- deleted tenant) leaves its key here; the media trash sweep deletes the object, then the row.
create table private.media_trash (
  object_key text primary key,
  tenant_id uuid not null,
  trashed_at timestamptz not null default now()
);
alter table private.media_trash enable row level security;
revoke all on private.media_trash from public, anon, authenticated;
grant select, insert, update, delete on private.media_trash to service_role;

create or replace function private.on_media_object_deleted() returns trigger
language plpgsql security definer set search_path = '' as $$
begin
  if old.object_key is not null then
    insert into private.media_trash (object_key, tenant_id) values (old.object_key, old.tenant_id)
    on conflict (object_key) do nothing;
  end if;
  return null;
end;
$$;
create trigger media_trash after delete on public.message_media
  for each row execute function private.on_media_object_deleted();
create trigger media_trash after delete on public.media_uploads
  for each row execute function private.on_media_object_deleted();

-- The media state of a message, to the tenant and to the conversation (MediaPayload).
create or replace function private.on_message_media_broadcast() returns trigger
language plpgsql security definer set search_path = '' as $$
declare
  payload jsonb;
begin
  if tg_op = 'UPDATE' and new.state = old.state and new.content_type is not distinct from old.content_type then
    return null;
  end if;
  payload := jsonb_build_object(
    'message_id', new.message_id, 'tenant_id', new.tenant_id, 'conversation_id', new.conversation_id,
    'state', new.state, 'content_type', new.content_type, 'size_bytes', new.size_bytes,
    'error_code', new.error_code, 'updated_at', new.updated_at
  );
  perform private.broadcast_to_tenant(new.tenant_id, 'media_updated', payload);
  perform private.broadcast_to_conversation(new.conversation_id, 'media_updated', payload);
  return null;
end;
$$;
create trigger realtime_broadcast after insert or update on public.message_media
  for each row execute function private.on_message_media_broadcast();

-- The purge: a hidden or erased contact's files go with their messages (and its uploads with the
-- conversation); the trash trigger keeps their keys for the sweep that deletes the objects.
insert into private.contact_data (relation, predicate, purge_order) values
  ('public.message_media', 'tenant_id = $1 and conversation_id = any($4)', 5),
  ('public.media_uploads', 'tenant_id = $1 and conversation_id = any($4)', 5)
on conflict (relation) do update set predicate = excluded.predicate, exempt_reason = null,
  purge_order = excluded.purge_order;
insert into private.contact_data (relation, exempt_reason) values
  ('private.media_trash', 'bucket keys of deleted files, waiting for the sweep: no contact data')
on conflict (relation) do nothing;
