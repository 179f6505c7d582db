-- The routing intent set gains `cancellation` (#20): a customer who wants to cancel an order, a plan,
-- a subscription or a booking (not a dispute over a charge, which stays billing_dispute).
alter table public.message_analyses drop constraint message_analyses_intent_check;
alter table public.message_analyses add constraint message_analyses_intent_check check (intent in (
  'purchase_interest', 'support_request', 'billing_payment', 'billing_negotiation', 'billing_dispute',
  'complaint', 'cancellation', 'greeting', 'other'));
alter table public.analysis_corrections drop constraint analysis_corrections_intent_check;
alter table public.analysis_corrections add constraint analysis_corrections_intent_check check (intent in (
  'purchase_interest', 'support_request', 'billing_payment', 'billing_negotiation', 'billing_dispute',
  'complaint', 'cancellation', 'greeting', 'other'));
