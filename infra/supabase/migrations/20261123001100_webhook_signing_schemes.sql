-- A second way to sign webhooks: Evolution API 2.3+ turns a `jwt_key` entry of the instance's
-- webhook headers into `Authorization: Bearer <JWT HS256 {iat, exp = iat + 600, app: "evolution",
-- action: "webhook"}>`. The same private key column holds that jwt_key.
alter table private.instance_webhook_signing
  add column scheme text not null default 'hmac-sha256' check (scheme in ('hmac-sha256', 'evolution-jwt'));
