-- Calibrated-confidence mark of the labels (#20): the winning sentiment's share of the vote and
-- whether any label fell below the low-confidence threshold (the UI shows "?", routing may ask a human).
alter table public.message_analyses
  add column sentiment_confidence real not null default 1 check (sentiment_confidence between 0 and 1),
  add column low_confidence boolean not null default false;
