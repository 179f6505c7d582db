-- Search over the tenant's message text (issue 13): Portuguese stemming, accent-insensitive.
-- A text search configuration that unaccents before stemming, so "cartão", "cartao" and
-- "cartões" meet; a GIN index over it (to_tsvector with a fixed configuration is immutable).
create extension if not exists unaccent with schema extensions;

do $$
begin
  if not exists (select 1 from pg_ts_config where cfgname = 'pt_unaccent') then
    create text search configuration public.pt_unaccent (copy = pg_catalog.portuguese);
    alter text search configuration public.pt_unaccent
      alter mapping for hword, hword_part, word with extensions.unaccent, portuguese_stem;
  end if;
end
$$;

create index messages_search_idx on public.messages
  using gin (to_tsvector('public.pt_unaccent'::regconfig, coalesce(body, '')));

-- Contacts by name, accent- and case-insensitive (the tenant's contacts are filtered first).
create or replace function public.search_folded(value text) returns text
language sql immutable parallel safe set search_path = '' as $$
  select lower(extensions.unaccent('extensions.unaccent'::regdictionary, coalesce(value, '')))
$$;
