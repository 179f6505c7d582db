"""Demo data for the local stack: one tenant, its owner, one Evolution instance."""

from __future__ import annotations

import secrets
from dataclasses import dataclass

import psycopg

from ponte.services.intake import hash_secret


@dataclass(frozen=True)
class Seeded:
    tenant_id: str
    user_id: str
    user_email: str
    instance_id: str
    provider: str
    # the demo's Cloud API instance: one business phone number of a (fake) Meta app
    cloud_instance_id: str = ""
    cloud_phone_number_id: str = ""


DEMO = Seeded(
    tenant_id="00000000-0000-4000-8000-00000000d001",
    user_id="00000000-0000-4000-8000-00000000d002",
    user_email="dona@loja-demo.local",
    instance_id="00000000-0000-4000-8000-00000000d003",
    provider="evolution",
    cloud_instance_id="00000000-0000-4000-8000-00000000d0c1",
    cloud_phone_number_id="100000000000001",
)
# an agent beside the owner, so that what RLS shows each role can be seen
DEMO_AGENT_ID = "00000000-0000-4000-8000-00000000d0a7"
DEMO_AGENT_EMAIL = "agente@loja-demo.local"


def seed_tenant(
    conn: psycopg.Connection,
    *,
    tenant_id: str,
    name: str,
    user_id: str,
    email: str,
    role: str = "owner",
    instance_id: str | None = None,
    provider: str = "evolution",
    gateway_instance: str = "demo",
    webhook_secret: str | None = None,
) -> None:
    """Idempotent: a tenant, a user with a membership, and optionally an instance."""
    conn.execute("insert into public.tenants (id, name) values (%s, %s) on conflict do nothing", (tenant_id, name))
    conn.execute("insert into auth.users (id, email) values (%s, %s) on conflict do nothing", (user_id, email))
    conn.execute(
        "insert into public.memberships (tenant_id, user_id, role) values (%s, %s, %s) on conflict do nothing",
        (tenant_id, user_id, role),
    )
    if instance_id and webhook_secret:
        conn.execute(
            "insert into public.whatsapp_instances (id, tenant_id, provider, gateway_instance, webhook_secret_hash)"
            " values (%s, %s, %s, %s, %s)"
            " on conflict (id) do update set webhook_secret_hash = excluded.webhook_secret_hash",
            (instance_id, tenant_id, provider, gateway_instance, hash_secret(webhook_secret)),
        )


def seed_demo(conn: psycopg.Connection, webhook_secret: str) -> Seeded:
    seed_tenant(
        conn,
        tenant_id=DEMO.tenant_id,
        name="Loja Demo",
        user_id=DEMO.user_id,
        email=DEMO.user_email,
        instance_id=DEMO.instance_id,
        provider=DEMO.provider,
        webhook_secret=webhook_secret,
    )
    seed_tenant(
        conn, tenant_id=DEMO.tenant_id, name="Loja Demo", user_id=DEMO_AGENT_ID, email=DEMO_AGENT_EMAIL, role="agent"
    )
    # the Cloud API instance: Meta signs its webhooks with the app secret, so its webhook secret
    # hash is of a value nobody holds (the secret store keeps the app secret and tokens)
    seed_tenant(
        conn,
        tenant_id=DEMO.tenant_id,
        name="Loja Demo",
        user_id=DEMO.user_id,
        email=DEMO.user_email,
        instance_id=DEMO.cloud_instance_id,
        provider="cloud",
        gateway_instance=DEMO.cloud_phone_number_id,
        webhook_secret=secrets.token_urlsafe(32),
    )
    # the ERP's record of the demo payload's sender, typed the old 8-digit way: her first
    # message becomes a lead matched to it
    conn.execute(
        "insert into public.customers (tenant_id, external_id, name, phone_raw, sales_summary)"
        " values (%s, 'ERP-0001', 'Maria Exemplo', '(11) 8765-0001', '{\"orders\": 3}')"
        " on conflict (tenant_id, external_id) do nothing",
        (DEMO.tenant_id,),
    )
    conn.commit()
    return DEMO
