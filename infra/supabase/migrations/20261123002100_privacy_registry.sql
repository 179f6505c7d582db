-- The purge registry for the tables other migrations add: the webhook quarantine
-- (20261123001000: raw payloads, searched by the identities' digits), and leads, message
-- analyses, reply suggestions (their text is content) and analysis corrections (20261123005000).
-- Registered by name, so this runs before or after the tables exist; children first.

insert into private.contact_data (relation, predicate, purge_order) values
  ('public.reply_suggestions', 'tenant_id = $1 and conversation_id = any($4)', 5),
  ('public.analysis_corrections',
   'tenant_id = $1 and message_id in (select m.id from public.messages m'
   ' where m.tenant_id = $1 and (m.contact_id = any($2) or m.conversation_id = any($4)))', 5),
  ('public.message_analyses', 'tenant_id = $1 and conversation_id = any($4)', 6),
  ('public.leads', 'tenant_id = $1 and contact_id = any($2)', 8),
  ('public.webhook_quarantine',
   'tenant_id = $1 and (raw_payload like any($5) or detail like any($5))', 70)
on conflict (relation) do update set predicate = excluded.predicate, exempt_reason = null,
  purge_order = excluded.purge_order;
