-- Message search that can use its indexes (issue 13). Under row-level security the planner runs
-- the row policy before any qual that is not leakproof, and `@@` is not: a search as the caller
-- read every message of the table, computing to_tsvector row by row (a sequential scan: 0.35 s at
-- 50,000 messages, seconds at a million). This function runs as its owner with the caller's
-- tenants as an explicit filter -- exactly the rows the messages_member policy shows them -- so the
-- GIN index (a rare word) or the tenant's time index (a frequent one) serves it. EXECUTE plans each
-- call with its values, so the planner sees the query's own selectivity.
create or replace function public.search_messages(
  p_query text, p_limit integer, p_before_at timestamptz default null, p_before_id uuid default null
) returns table (id uuid, conversation_id uuid, occurred_at timestamptz, body text)
language plpgsql stable security definer set search_path = '' as $$
begin
  return query execute
    'select m.id, m.conversation_id, m.occurred_at, m.body from public.messages m'
    ' where m.tenant_id in (select private.my_tenant_ids())'
    ' and to_tsvector(''public.pt_unaccent''::regconfig, coalesce(m.body, ''''))'
    ' @@ websearch_to_tsquery(''public.pt_unaccent'', $1)'
    || case when p_before_at is null then '' else ' and (m.occurred_at, m.id) < ($3, $4)' end
    || ' order by m.occurred_at desc, m.id desc limit $2'
    using p_query, least(greatest(p_limit, 1), 101), p_before_at, p_before_id;
end
$$;

revoke all on function public.search_messages(text, integer, timestamptz, uuid) from public, anon;
grant execute on function public.search_messages(text, integer, timestamptz, uuid) to authenticated, service_role;
