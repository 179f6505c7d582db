-- Acks and deletions that arrive before their message (the ingest queue does not keep order:
-- Evolution posts send.message and its SERVER_ACK milliseconds apart). They wait here, in the
-- private schema (ids and statuses only, no personal data), and are applied when the message is
-- stored.
create table private.pending_message_status (
  tenant_id uuid not null references public.tenants (id) on delete cascade,
  instance_id uuid not null references public.whatsapp_instances (id) on delete cascade,
  provider_message_id text not null,
  direction text check (direction in ('in', 'out')),
  status text not null,
  status_at timestamptz,
  received_at timestamptz not null default now(),
  primary key (tenant_id, instance_id, provider_message_id, status)
);
alter table private.pending_message_status enable row level security;
revoke all on private.pending_message_status from public, anon, authenticated;
grant select, insert, update, delete on private.pending_message_status to service_role;
