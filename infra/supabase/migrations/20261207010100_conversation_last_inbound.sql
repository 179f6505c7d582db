-- The inbox's `unread=true` filter without a look into the messages (issue 13). "Has an inbound
-- message after my read mark" was an `exists` over the messages for every conversation of the
-- tenant before the page was cut (586 ms p50 at 10,000 conversations and 1,000,000 messages).
-- The time of a conversation's newest inbound message, kept on the conversation itself, turns
-- it into a comparison with the caller's read mark as the inbox index is walked.
--
-- Kept by: ingest's conversation upsert (the same statement that moves last_message_at, with the
-- inbound message's time); the fold of one conversation into another on a contact merge (the
-- later of the two); the purge deletes a contact's conversations with its messages (a message
-- belongs to its conversation's contact), so no conversation that stays loses a message. The
-- proxy's sends are outbound and leave it alone. A revoked message still counts, as in the unread
-- count (it stays, marked deleted).
alter table public.conversations add column last_inbound_at timestamptz;
comment on column public.conversations.last_inbound_at is
  'occurred_at of the conversation''s newest inbound message (null: none); the inbox''s unread filter';

update public.conversations c set last_inbound_at = m.newest
from (
  select conversation_id, max(occurred_at) as newest from public.messages where direction = 'in'
  group by conversation_id
) m
where m.conversation_id = c.id;
