-- Privacy layer: the contact-data registry (how to find a contact's rows in every table
-- that holds them), the privacy audit, hide / unhide / erase / sweep, and the ingest guard.
--
-- The registry is the ONE place that says where a contact leaves traces. Every migration
-- that adds a table registers it here, either with a predicate or as exempt with a reason:
--
--   insert into private.contact_data (relation, predicate, purge_order) values
--     ('public.leads', 'tenant_id = $1 and contact_id = any($2)', 15);
--   insert into private.contact_data (relation, exempt_reason) values
--     ('public.settings_x', 'configuration only, no contact data');
--
-- Predicates are boolean SQL over the table's rows, with these parameters:
--   $1 uuid      the tenant
--   $2 uuid[]    the contact ids (every contact that carries one of the identities)
--   $3 text[]    every identity form: E.164, phone JIDs (@s.whatsapp.net, @c.us, legacy 12-digit), @lid
--   $4 uuid[]    the conversation ids of those contacts
--   $5 text[]    LIKE patterns ('%<digits>%') of the identities' user parts, for raw payloads
-- tests/integration/test_contact_data_registry.py fails when a table is not registered.

create table private.contact_data (
  relation text primary key,          -- schema-qualified, e.g. 'public.messages'
  predicate text,                     -- null when exempt
  exempt_reason text,
  purge_order integer not null default 100,  -- children first, so that counts are per table
  constraint contact_data_predicate_or_reason check ((predicate is null) <> (exempt_reason is null))
);
revoke all on private.contact_data from public, anon, authenticated, service_role;

insert into private.contact_data (relation, predicate, purge_order) values
  ('public.messages', 'tenant_id = $1 and (contact_id = any($2) or conversation_id = any($4))', 10),
  ('public.conversations', 'tenant_id = $1 and (id = any($4) or contact_id = any($2))', 20),
  ('public.contact_aliases', 'tenant_id = $1 and (contact_id = any($2) or alias = any($3))', 30),
  ('public.contacts', 'tenant_id = $1 and id = any($2)', 40),
  -- the ERP's copy of the person: matched by canonical phone
  ('public.customers', 'tenant_id = $1 and phone_e164 = any($3)', 50),
  -- diagnostics details that name the contact (raw ids, JIDs) anywhere in the detail
  ('public.proxy_diagnostics', 'tenant_id = $1 and detail is not null and detail::text like any($5)', 60);

insert into private.contact_data (relation, exempt_reason) values
  ('public.tenants', 'holds the hidden list itself (kept on purpose: the intake gate drops hidden contacts)'),
  ('public.memberships', 'users of the tenant, no contact data'),
  ('public.whatsapp_instances', 'gateway instances, no contact data'),
  ('public.privacy_audit', 'keyed hashes and counts only, never a number or content');

-- Realtime broadcast rows (Supabase's realtime.messages; the local compat layer's copy):
-- everything on the contact's conversation topics, and the tenant-topic events whose payload
-- names the contact or one of its conversations (messages, conversations, leads, analyses,
-- suggestions).
insert into private.contact_data (relation, predicate, purge_order)
select 'realtime.messages',
  'topic = any(array(select ''conversation:'' || c::text from unnest($4) c))'
  ' or (topic = ''tenant:'' || $1::text and (payload ->> ''contact_id'' = any($2::text[])'
  ' or payload ->> ''conversation_id'' = any($4::text[])))',
  90
where to_regclass('realtime.messages') is not null;

-- The audit of every privacy action: who, when, what kind, how many rows per table.
-- Never a number or content: the subject is a keyed hash (HMAC-SHA256 with a key from the
-- secret store), so an auditor holding a number can check it, nobody can read it back.
create table public.privacy_audit (
  id bigint generated always as identity primary key,
  tenant_id uuid not null references public.tenants (id) on delete cascade,
  action text not null check (action in ('hide', 'unhide', 'erase', 'sweep')),
  actor_user_id uuid,                 -- null for the scheduled / queued sweep
  actor text not null,                -- 'user', 'schedule', 'queue', 'cli'
  subject_hash text not null,
  counts jsonb not null default '{}'::jsonb,
  total bigint not null default 0,
  occurred_at timestamptz not null default now()
);
create index privacy_audit_tenant_idx on public.privacy_audit (tenant_id, occurred_at desc);

alter table public.privacy_audit enable row level security;
-- Owners and admins read their tenant's audit; nobody writes it through the API (the
-- security-definer functions below do).
create policy privacy_audit_admin_select on public.privacy_audit for select to authenticated
  using (tenant_id in (select private.my_admin_tenant_ids()));

-- One advisory lock per tenant orders hides against ingests: ingest holds it shared for
-- its transaction, hide / erase / sweep exclusively. A message being stored while a hide
-- runs is either committed before the purge (and purged) or checked after it (and dropped).
create or replace function private.privacy_lock_key(p_tenant uuid) returns bigint
language sql immutable set search_path = '' as $$
  select hashtextextended('ponte.privacy:' || p_tenant::text, 0)
$$;

-- Owners and admins of the tenant (claims of an authenticated user), or the service role.
create or replace function private.assert_privacy_admin(p_tenant uuid) returns void
language plpgsql stable security definer set search_path = '' as $$
begin
  if auth.role() = 'service_role' then
    return;
  end if;
  if p_tenant is null or p_tenant not in (select private.my_admin_tenant_ids()) then
    raise exception 'only owners and admins of the tenant manage hidden contacts'
      using errcode = '42501';
  end if;
end;
$$;

-- Store-side defence in depth, called by ingest inside its own transaction: false when any
-- identity is hidden in the tenant. Takes the tenant's privacy lock shared.
create or replace function private.ingest_allowed(p_tenant uuid, p_identities text[]) returns boolean
language plpgsql volatile security definer set search_path = '' as $$
begin
  perform pg_advisory_xact_lock_shared(private.privacy_lock_key(p_tenant));
  return not exists (
    select 1 from public.tenants t,
      jsonb_array_elements_text(coalesce(t.settings -> 'hidden_contacts', '[]'::jsonb)) h
    where t.id = p_tenant and h = any(p_identities)
  );
end;
$$;

-- Every contact, identity form and conversation reachable from the given identities:
-- aliases link a phone to its @lid and legacy JID; repeated until nothing new turns up.
create or replace function private.contact_closure(
  p_tenant uuid, p_identities text[],
  out contact_ids uuid[], out identities text[], out conversation_ids uuid[]
)
language plpgsql stable security definer set search_path = '' as $$
declare
  found_ids uuid[];
  more text[];
begin
  identities := array(select distinct x from unnest(p_identities) x where x is not null and x <> '');
  contact_ids := '{}';
  for i in 1..5 loop
    found_ids := array(
      select a.contact_id from public.contact_aliases a where a.tenant_id = p_tenant and a.alias = any(identities)
      union
      select c.id from public.contacts c
      where c.tenant_id = p_tenant and (c.identity_key = any(identities) or c.phone_e164 = any(identities))
    );
    more := array(
      select a.alias from public.contact_aliases a where a.tenant_id = p_tenant and a.contact_id = any(found_ids)
      union
      select c.identity_key from public.contacts c where c.id = any(found_ids)
      union
      select c.phone_e164 from public.contacts c where c.id = any(found_ids) and c.phone_e164 is not null
    );
    exit when found_ids <@ contact_ids and more <@ identities;
    contact_ids := array(select distinct x from unnest(contact_ids || found_ids) x);
    identities := array(select distinct x from unnest(identities || more) x order by x);
  end loop;
  conversation_ids := array(
    select v.id from public.conversations v
    where v.tenant_id = p_tenant and (v.contact_id = any(contact_ids) or v.chat_key = any(identities))
  );
end;
$$;

-- LIKE patterns of the identities' user parts, for tables that keep raw text (payloads).
create or replace function private.identity_patterns(p_identities text[]) returns text[]
language sql immutable set search_path = '' as $$
  select coalesce(array_agg(distinct '%' || u || '%'), '{}')
  from (select regexp_replace(split_part(x, '@', 1), '[^0-9]', '', 'g') as u from unnest(p_identities) x) s
  where length(u) >= 8
$$;

-- Deletes every registered trace of the identities in the tenant and returns
-- {"counts": {relation: rows}, "total": n, "identities": [every form found], "timings_ms": {relation: ms}}.
-- Internal: called by the authorized wrappers below, never granted to API roles.
create or replace function private.purge_contact_data(p_tenant uuid, p_identities text[]) returns jsonb
language plpgsql volatile security definer set search_path = '' as $$
declare
  closure record;
  r record;
  n bigint;
  total bigint := 0;
  counts jsonb := '{}'::jsonb;
  timings jsonb := '{}'::jsonb;
  started timestamptz;
  patterns text[];
begin
  perform pg_advisory_xact_lock(private.privacy_lock_key(p_tenant));
  select * into closure from private.contact_closure(p_tenant, p_identities);
  patterns := private.identity_patterns(closure.identities);
  for r in
    select d.relation, d.predicate, to_regclass(d.relation) as rel
    from private.contact_data d where d.predicate is not null order by d.purge_order, d.relation
  loop
    continue when r.rel is null;  -- e.g. realtime.messages on a database without Realtime
    started := clock_timestamp();
    execute format('delete from %s where %s', r.rel::text, r.predicate)
      using p_tenant, closure.contact_ids, closure.identities, closure.conversation_ids, patterns;
    get diagnostics n = row_count;
    counts := counts || jsonb_build_object(r.relation, n);
    timings := timings || jsonb_build_object(r.relation, round(extract(epoch from clock_timestamp() - started) * 1000, 1));
    total := total + n;
  end loop;
  return jsonb_build_object(
    'counts', counts, 'total', total, 'identities', to_jsonb(closure.identities), 'timings_ms', timings
  );
end;
$$;

create or replace function private.write_privacy_audit(
  p_tenant uuid, p_action text, p_actor text, p_subject_hash text, p_result jsonb
) returns void
language sql volatile security definer set search_path = '' as $$
  insert into public.privacy_audit (tenant_id, action, actor_user_id, actor, subject_hash, counts, total)
  values (p_tenant, p_action, auth.uid(), p_actor, p_subject_hash,
          coalesce(p_result -> 'counts', '{}'::jsonb), coalesce((p_result ->> 'total')::bigint, 0))
$$;

-- Hide: purge every trace now, put every form of the person on the tenant's hidden list
-- (settings.hidden_contacts, the flat list the intake gate reads; settings.hidden_subjects,
-- the same forms grouped by subject so that unhide can remove them all), audit.
create or replace function private.hide_contact(
  p_tenant uuid, p_subject text, p_identities text[], p_subject_hash text, p_actor text default 'user'
) returns jsonb
language plpgsql volatile security definer set search_path = '' as $$
declare
  result jsonb;
  forms jsonb;
begin
  perform private.assert_privacy_admin(p_tenant);
  result := private.purge_contact_data(p_tenant, p_identities || p_subject);
  forms := result -> 'identities';
  update public.tenants t set settings =
    jsonb_set(
      jsonb_set(t.settings, '{hidden_subjects}',
        coalesce(t.settings -> 'hidden_subjects', '{}'::jsonb)
        || jsonb_build_object(p_subject, jsonb_build_object(
             'forms', forms,
             'hidden_at', coalesce(t.settings #> array['hidden_subjects', p_subject, 'hidden_at'], to_jsonb(now()))))),
      '{hidden_contacts}',
      (select coalesce(jsonb_agg(distinct x order by x), '[]'::jsonb) from (
        select jsonb_array_elements_text(coalesce(t.settings -> 'hidden_contacts', '[]'::jsonb)) x
        union select jsonb_array_elements_text(forms)) u)
    )
  where t.id = p_tenant;
  perform private.write_privacy_audit(p_tenant, 'hide', p_actor, p_subject_hash, result);
  return result;
end;
$$;

-- Unhide: remove the subject's forms from the hidden list. Returns whether it was hidden.
create or replace function private.unhide_contact(
  p_tenant uuid, p_subject text, p_identities text[], p_subject_hash text, p_actor text default 'user'
) returns boolean
language plpgsql volatile security definer set search_path = '' as $$
declare
  settings jsonb;
  forms text[];
  was_hidden boolean;
begin
  perform private.assert_privacy_admin(p_tenant);
  perform pg_advisory_xact_lock(private.privacy_lock_key(p_tenant));
  select t.settings into settings from public.tenants t where t.id = p_tenant for update;
  forms := array(select jsonb_array_elements_text(coalesce(settings #> array['hidden_subjects', p_subject, 'forms'], '[]')))
    || p_identities || p_subject;
  was_hidden := exists (
    select 1 from jsonb_array_elements_text(coalesce(settings -> 'hidden_contacts', '[]'::jsonb)) h where h = any(forms)
  );
  update public.tenants t set settings =
    jsonb_set(
      jsonb_set(t.settings, '{hidden_subjects}', coalesce(t.settings -> 'hidden_subjects', '{}'::jsonb) - p_subject),
      '{hidden_contacts}',
      (select coalesce(jsonb_agg(x order by x), '[]'::jsonb)
       from jsonb_array_elements_text(coalesce(t.settings -> 'hidden_contacts', '[]'::jsonb)) x
       where x <> all(forms))
    )
  where t.id = p_tenant;
  if was_hidden then
    perform private.write_privacy_audit(p_tenant, 'unhide', p_actor, p_subject_hash, '{}'::jsonb);
  end if;
  return was_hidden;
end;
$$;

-- Erasure on request (LGPD data-subject request): the same purge and audit, list unchanged.
create or replace function private.erase_contact(
  p_tenant uuid, p_subject text, p_identities text[], p_subject_hash text, p_actor text default 'user'
) returns jsonb
language plpgsql volatile security definer set search_path = '' as $$
declare
  result jsonb;
begin
  perform private.assert_privacy_admin(p_tenant);
  result := private.purge_contact_data(p_tenant, p_identities || p_subject);
  perform private.write_privacy_audit(p_tenant, 'erase', p_actor, p_subject_hash, result);
  return result;
end;
$$;

-- The sweep, one subject at a time: purge what slipped in (in-flight queue messages, writers
-- without the guard); audited only when it deleted something.
create or replace function private.sweep_hidden_subject(
  p_tenant uuid, p_subject text, p_subject_hash text, p_actor text
) returns jsonb
language plpgsql volatile security definer set search_path = '' as $$
declare
  settings jsonb;
  forms text[];
  result jsonb;
begin
  perform private.assert_privacy_admin(p_tenant);
  select t.settings into settings from public.tenants t where t.id = p_tenant;
  forms := array(select jsonb_array_elements_text(coalesce(settings #> array['hidden_subjects', p_subject, 'forms'], '[]')))
    || p_subject;
  result := private.purge_contact_data(p_tenant, forms);
  if (result ->> 'total')::bigint > 0 then
    perform private.write_privacy_audit(p_tenant, 'sweep', p_actor, p_subject_hash, result);
  end if;
  return result;
end;
$$;

-- The subjects a sweep visits: every tenant's hidden subjects, or one tenant's. A flat
-- hidden_contacts entry with no subject (written by hand) is its own subject.
create or replace function private.hidden_subjects(p_tenant uuid default null)
returns table (tenant_id uuid, subject text)
language sql stable security definer set search_path = '' as $$
  select t.id, s.subject
  from public.tenants t,
    lateral (
      select jsonb_object_keys(coalesce(t.settings -> 'hidden_subjects', '{}'::jsonb)) as subject
      union
      select h from jsonb_array_elements_text(coalesce(t.settings -> 'hidden_contacts', '[]'::jsonb)) h
      where not exists (
        select 1 from jsonb_each(coalesce(t.settings -> 'hidden_subjects', '{}'::jsonb)) e
        where e.value -> 'forms' ? h or e.key = h
      )
    ) s
  where (p_tenant is null or t.id = p_tenant) and (auth.role() = 'service_role'
    or t.id in (select private.my_admin_tenant_ids()))
$$;

revoke all on function
  private.privacy_lock_key(uuid),
  private.assert_privacy_admin(uuid),
  private.ingest_allowed(uuid, text[]),
  private.contact_closure(uuid, text[]),
  private.identity_patterns(text[]),
  private.purge_contact_data(uuid, text[]),
  private.write_privacy_audit(uuid, text, text, text, jsonb),
  private.hide_contact(uuid, text, text[], text, text),
  private.unhide_contact(uuid, text, text[], text, text),
  private.erase_contact(uuid, text, text[], text, text),
  private.sweep_hidden_subject(uuid, text, text, text),
  private.hidden_subjects(uuid)
  from public, anon, authenticated, service_role;

grant execute on function
  private.assert_privacy_admin(uuid),
  private.hide_contact(uuid, text, text[], text, text),
  private.unhide_contact(uuid, text, text[], text, text),
  private.erase_contact(uuid, text, text[], text, text),
  private.hidden_subjects(uuid)
  to authenticated, service_role;
grant execute on function
  private.ingest_allowed(uuid, text[]),
  private.sweep_hidden_subject(uuid, text, text, text)
  to service_role;
