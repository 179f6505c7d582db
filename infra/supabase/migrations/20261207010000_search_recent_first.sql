-- Search: the newest messages first, the text index for the rest (issue 13). A word in one message
-- of seven ("boleto") made the GIN path read every match (281,034 at 2,000,000 messages) to sort
-- out the newest 21: 134 ms p50. Walking the tenant's time index newest first and matching row by
-- row finds those 21 within ~150 rows; for a rare word that walk would read the whole tenant, so
-- it stops after a fixed number of rows (sooner when its first rows show the word is rare), and
-- what is still missing is asked of the GIN index, strictly older than the last row walked (the
-- walk's matches are already the newest ones, in order, so nothing is read twice and the order
-- holds). The planner cannot make that choice itself: given the tenant as a constant it walked
-- the time index for a three-word query of 3,249 matches in the tenant and took 1 s.
-- Only the caller's tenants are read (the rows the messages_member policy shows them); each of
-- several tenants is walked on its own and the walks merged.
create or replace function public.search_messages(
  p_query text, p_limit integer, p_before_at timestamptz default null, p_before_id uuid default null
) returns table (id uuid, conversation_id uuid, occurred_at timestamptz, body text)
language plpgsql stable security definer set search_path = '' set jit = off as $$
declare
  -- rows matched one by one before the text index takes over: a word in 1 message of 50 still
  -- fills a first page within it
  walk_rows constant integer := 1000;
  -- after this many, a walk whose pace would not fill the page within walk_rows stops there: a
  -- rare word pays about 3 ms of walk, not 15
  probe_rows constant integer := 200;
  gave_up boolean := false;
  wanted integer := least(greatest(p_limit, 1), 101);
  matching tsquery := websearch_to_tsquery('public.pt_unaccent', p_query);
  tenants uuid[] := array(select private.my_tenant_ids());
  found integer := 0;
  walked integer := 0;
  last_at timestamptz := p_before_at;
  last_id uuid := p_before_id;
  r record;
begin
  if numnode(matching) = 0 or cardinality(tenants) = 0 then
    return;  -- only stop words, or no tenant: nothing can match
  end if;
  for r in execute
    case when cardinality(tenants) = 1 then
      'select m.id, m.conversation_id, m.occurred_at, m.body,'
      ' to_tsvector(''public.pt_unaccent''::regconfig, coalesce(m.body, '''')) @@ $4 as hit'
      ' from public.messages m where m.tenant_id = $1[1]'
      || case when p_before_at is null then '' else ' and m.occurred_at <= $2 and (m.occurred_at, m.id) < ($2, $3)' end
      || ' order by m.occurred_at desc, m.id desc limit $5'
    else
      'select w.id, w.conversation_id, w.occurred_at, w.body,'
      ' to_tsvector(''public.pt_unaccent''::regconfig, coalesce(w.body, '''')) @@ $4 as hit'
      ' from unnest($1) t (tenant_id) cross join lateral ('
      '  select m.id, m.conversation_id, m.occurred_at, m.body from public.messages m where m.tenant_id = t.tenant_id'
      || case when p_before_at is null then '' else ' and m.occurred_at <= $2 and (m.occurred_at, m.id) < ($2, $3)' end
      || '  order by m.occurred_at desc, m.id desc limit $5) w'
      ' order by w.occurred_at desc, w.id desc limit $5'
    end
    using tenants, p_before_at, p_before_id, matching, walk_rows
  loop
    walked := walked + 1;
    last_at := r.occurred_at;
    last_id := r.id;
    if r.hit then
      id := r.id;
      conversation_id := r.conversation_id;
      occurred_at := r.occurred_at;
      body := r.body;
      return next;
      found := found + 1;
      exit when found >= wanted;
    end if;
    if walked = probe_rows and found * walk_rows < wanted * probe_rows then
      gave_up := true;
      exit;
    end if;
  end loop;
  if found >= wanted or (walked < walk_rows and not gave_up) then
    return;  -- the page is full, or the walk saw every message there is
  end if;
  return query execute
    'select m.id, m.conversation_id, m.occurred_at, m.body from public.messages m'
    ' where m.tenant_id = any($1)'
    ' and to_tsvector(''public.pt_unaccent''::regconfig, coalesce(m.body, '''')) @@ $4'
    ' and m.occurred_at <= $2 and (m.occurred_at, m.id) < ($2, $3)'
    ' order by m.occurred_at desc, m.id desc limit $5'
    using tenants, last_at, last_id, matching, wanted - found;
end
$$;

revoke all on function public.search_messages(text, integer, timestamptz, uuid) from public, anon;
grant execute on function public.search_messages(text, integer, timestamptz, uuid) to authenticated, service_role;
