-- One outbox for everything Ponte sends (issue 18): a send is a text, or a template, media, a
-- location, a contact card or an interactive message. `body` stays what an agent reads back (the
-- text, the caption, "[modelo] <name>"...); `payload` holds the rest (ponte.domain.outbound).
alter table public.outbound_messages
  add column kind text not null default 'text'
    check (kind in ('text', 'template', 'image', 'document', 'audio', 'video', 'location', 'contact', 'interactive')),
  add column payload jsonb;

-- The message templates of each Cloud API instance's WhatsApp Business Account, as Meta lists them
-- (GET /{waba_id}/message_templates), cached: synced on demand and when older than an hour.
create table public.message_templates (
  tenant_id uuid not null references public.tenants (id) on delete cascade,
  instance_id uuid not null references public.whatsapp_instances (id) on delete cascade,
  name text not null check (length(name) between 1 and 512),
  language text not null check (length(language) between 2 and 20),
  status text not null,
  category text,
  components jsonb not null default '[]'::jsonb,
  synced_at timestamptz not null default now(),
  primary key (instance_id, name, language)
);
create index message_templates_tenant_idx on public.message_templates (tenant_id);

alter table public.message_templates enable row level security;
-- members read their tenant's templates; only the service writes the cache (the proxy's sync,
-- after the caller's RLS showed them the instance)
create policy message_templates_member_select on public.message_templates for select to authenticated
  using (tenant_id in (select private.my_tenant_ids()));

insert into private.contact_data (relation, exempt_reason) values
  ('public.message_templates', 'the business account''s message templates: no contact data')
on conflict (relation) do nothing;
