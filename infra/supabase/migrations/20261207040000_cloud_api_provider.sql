-- The official WhatsApp Cloud API as a third provider (issue 18).
--
-- An instance of provider 'cloud' is one business phone number of a Meta app: gateway_instance
-- holds its phone_number_id (what every webhook change names), gateway_base_url the Graph API
-- base (empty: Meta's), credentials_secret_name the secret-store entry with the app secret,
-- the verify token and the access token. Its webhook_secret_hash is unused: Meta cannot send
-- a custom header, every POST is authenticated by X-Hub-Signature-256 with the app secret.
alter table public.whatsapp_instances drop constraint whatsapp_instances_provider_check;
alter table public.whatsapp_instances add constraint whatsapp_instances_provider_check
  check (provider in ('wppconnect', 'evolution', 'cloud'));
-- routing by phone_number_id uses the unique (tenant_id, provider, gateway_instance) index

-- A failed send's reason as a machine code (Cloud API: Meta's error code mapped), set with the
-- 'error' status; a parked status keeps it until its message arrives.
alter table public.messages add column status_error text;
alter table private.pending_message_status add column error_code text;
