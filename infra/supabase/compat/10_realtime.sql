-- Supabase Realtime's database side, for a plain PostgreSQL (>= 15).
--
-- Applied with the rest of the compat layer ONLY where Supabase's own objects are
-- absent. Same schema, table columns, grants, RLS and function signatures as
-- supabase/realtime's tenant migrations ("broadcast from database"), reimplemented
-- for Ponte, not copied. Differences, all local-only:
--   * realtime.messages is not partitioned by day (upstream drops old partitions);
--   * upstream delivers committed rows through logical replication; here a trigger
--     sends NOTIFY, which PostgreSQL also delivers only at commit, to the local
--     realtime server (ponte/localstack/realtime);
--   * postgres_changes: upstream decodes WAL for the tables of the publication
--     supabase_realtime; here realtime.local_sync_change_triggers() (called by the
--     local server at start) puts a NOTIFY-the-primary-key trigger on those tables.

create schema if not exists realtime;
grant usage on schema realtime to anon, authenticated, service_role;

create table if not exists realtime.messages (
  topic text not null,
  extension text not null,
  payload jsonb,
  event text,
  private boolean default false,
  updated_at timestamp without time zone not null default now(),
  inserted_at timestamp without time zone not null default now(),
  id uuid not null default gen_random_uuid(),
  binary_payload bytea,
  constraint messages_pkey primary key (id, inserted_at),
  constraint messages_payload_exclusivity check (payload is null or binary_payload is null)
);
create index if not exists messages_inserted_at_topic_index on realtime.messages (inserted_at desc, topic);

alter table realtime.messages enable row level security;
grant insert, select, update on realtime.messages to anon, authenticated, service_role;

-- The topic being authorized: the server sets it before it probes the policies, and
-- realtime.send sets it before it inserts.
create or replace function realtime.topic() returns text
language sql stable as $$
  select nullif(current_setting('realtime.topic', true), '')::text
$$;

-- Upstream semantics: adds payload.id when absent, never raises (a failed send is a
-- warning, so a broadcast can never abort the transaction that triggered it), and is
-- not SECURITY DEFINER: call it from a security-definer trigger function.
create or replace function realtime.send(payload jsonb, event text, topic text, private boolean default true)
returns void
language plpgsql as $$
declare
  new_id uuid := gen_random_uuid();
  body jsonb := payload;
begin
  begin
    if not (body ? 'id') then
      body := jsonb_set(body, '{id}', to_jsonb(new_id));
    end if;
    perform set_config('realtime.topic', topic, true);
    insert into realtime.messages (id, payload, event, topic, private, extension)
    values (new_id, body, event, topic, private, 'broadcast');
  exception when others then
    raise warning 'WarnSendingBroadcastMessage: %', sqlerrm;
  end;
end;
$$;

-- Upstream semantics: the changed row(s) as {old_record, record, operation, table, schema}.
create or replace function realtime.broadcast_changes(
  topic_name text, event_name text, operation text, table_name text, table_schema text,
  new record, old record, level text default 'ROW'
) returns void
language plpgsql as $$
begin
  if level = 'STATEMENT' then
    raise exception 'function can only be triggered for each row, not for each statement';
  end if;
  if operation not in ('INSERT', 'UPDATE', 'DELETE') then
    raise exception 'Unexpected operation type: %', operation;
  end if;
  perform realtime.send(
    jsonb_build_object('old_record', old, 'record', new, 'operation', operation,
                       'table', table_name, 'schema', table_schema),
    event_name, topic_name
  );
exception when others then
  raise exception 'Failed to process the row: %', sqlerrm;
end;
$$;

grant execute on function realtime.topic() to anon, authenticated, service_role;
grant execute on function realtime.send(jsonb, text, text, boolean) to anon, authenticated, service_role;
grant execute on function realtime.broadcast_changes(text, text, text, text, text, record, record, text)
  to anon, authenticated, service_role;

-- Supabase creates this (empty) publication in every project.
do $$
begin
  if not exists (select 1 from pg_publication where pubname = 'supabase_realtime') then
    create publication supabase_realtime;
  end if;
end
$$;

-- ---------------------------------------------------------------------------
-- Local only: how the local realtime server learns of committed rows.
-- ---------------------------------------------------------------------------

-- Committed broadcast rows, once per statement: their notes (a row's id, topic, event, privacy
-- and payload) travel as JSON arrays of at most ~7,000 bytes (NOTIFY's limit is 8,000); a row
-- too large for one travels as its id alone and the server reads it back.
create or replace function realtime.local_notify_broadcast() returns trigger
language plpgsql as $$
declare
  r record;
  note text;
  notes text[] := '{}';
  size integer := 0;
begin
  for r in select * from new_broadcasts where extension = 'broadcast' loop
    note := json_build_object(
      'id', r.id, 'topic', r.topic, 'event', r.event, 'private', coalesce(r.private, false), 'payload', r.payload
    )::text;
    if octet_length(note) > 7000 then
      note := json_build_object('id', r.id)::text;
    end if;
    if size > 0 and size + octet_length(note) > 7000 then
      perform pg_notify('realtime_local_broadcast', '[' || array_to_string(notes, ',') || ']');
      notes := '{}';
      size := 0;
    end if;
    notes := notes || note;
    size := size + octet_length(note) + 1;
  end loop;
  if size > 0 then
    perform pg_notify('realtime_local_broadcast', '[' || array_to_string(notes, ',') || ']');
  end if;
  return null;
end;
$$;

drop trigger if exists local_notify_broadcast on realtime.messages;
create trigger local_notify_broadcast after insert on realtime.messages
  referencing new table as new_broadcasts
  for each statement execute function realtime.local_notify_broadcast();
-- Supabase delivers broadcast rows from the WAL, whatever fired them; so does this, also for rows
-- inserted under session_replication_role = replica (the purge's fast delete announces
-- conversation_deleted from there, and an ordinary trigger would stay silent).
alter table realtime.messages enable always trigger local_notify_broadcast;

-- A committed change of a row of a table in the publication: the primary key only,
-- the server re-reads the row for each subscriber under that subscriber's RLS.
-- TG_ARGV holds the primary-key column names.
create or replace function realtime.local_notify_change() returns trigger
language plpgsql as $$
declare
  row_new jsonb := case when tg_op = 'DELETE' then null else to_jsonb(new) end;
  row_old jsonb := case when tg_op = 'INSERT' then null else to_jsonb(old) end;
  pk jsonb := '{}'::jsonb;
  old_pk jsonb := '{}'::jsonb;
  col text;
begin
  foreach col in array tg_argv loop
    if row_new is not null then
      pk := pk || jsonb_build_object(col, row_new -> col);
    end if;
    if row_old is not null then
      old_pk := old_pk || jsonb_build_object(col, row_old -> col);
    end if;
  end loop;
  perform pg_notify('realtime_local_changes', json_build_object(
    'schema', tg_table_schema, 'table', tg_table_name, 'type', tg_op,
    'pk', case when row_new is null then null else pk end,
    'old_pk', case when row_old is null then null else old_pk end,
    'commit_timestamp', to_char(now() at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')
  )::text);
  return null;
end;
$$;

-- Puts the change trigger on every table of the publication supabase_realtime (and
-- removes it from tables that left it). Returns the tables it covers.
create or replace function realtime.local_sync_change_triggers() returns setof text
language plpgsql as $$
declare
  t record;
  pk_cols text;
begin
  for t in
    select c.oid, n.nspname, c.relname
    from pg_trigger tr
    join pg_class c on c.oid = tr.tgrelid
    join pg_namespace n on n.oid = c.relnamespace
    where tr.tgname = 'zz_realtime_local_changes'
      and not exists (select 1 from pg_publication_tables p
                      where p.pubname = 'supabase_realtime' and p.schemaname = n.nspname and p.tablename = c.relname)
  loop
    execute format('drop trigger zz_realtime_local_changes on %I.%I', t.nspname, t.relname);
  end loop;
  for t in
    select p.schemaname, p.tablename, format('%I.%I', p.schemaname, p.tablename)::regclass as rel
    from pg_publication_tables p where p.pubname = 'supabase_realtime'
  loop
    select string_agg(quote_literal(a.attname), ', ' order by k.ord) into pk_cols
    from pg_index i
    cross join lateral unnest(i.indkey) with ordinality k(attnum, ord)
    join pg_attribute a on a.attrelid = i.indrelid and a.attnum = k.attnum
    where i.indrelid = t.rel and i.indisprimary;
    continue when pk_cols is null;  -- no primary key: nothing to re-read by
    execute format(
      'create or replace trigger zz_realtime_local_changes after insert or update or delete on %I.%I'
      ' for each row execute function realtime.local_notify_change(%s)',
      t.schemaname, t.tablename, pk_cols
    );
    return next t.schemaname || '.' || t.tablename;
  end loop;
end;
$$;

revoke all on function realtime.local_notify_broadcast(), realtime.local_notify_change(),
  realtime.local_sync_change_triggers() from public;
