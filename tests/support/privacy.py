"""A tenant with an owner, an admin, an agent and an instance, a second tenant, and messages
from one person under every form WhatsApp uses for them (9th digit, legacy JID, @lid)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import psycopg

from ponte.adapters.postgres.accounts import PgMembershipReader
from ponte.adapters.postgres.db import Database
from ponte.adapters.postgres.ingest_store import PgIngestStore
from ponte.adapters.postgres.privacy_admin import PgPrivacyAdmin, PgPurgeStore
from ponte.domain.events import Direction, Identity, MessageEvent, MessageKind, Provider
from ponte.domain.identity import identity_from_jid
from ponte.localstack.seed import seed_tenant
from ponte.services.privacy import PrivacyService

TENANT = "00000000-0000-4000-8000-0000000000a1"
OWNER = "00000000-0000-4000-8000-0000000000a2"
INSTANCE = "00000000-0000-4000-8000-0000000000a3"
ADMIN = "00000000-0000-4000-8000-0000000000a4"
AGENT = "00000000-0000-4000-8000-0000000000a5"
OTHER_TENANT = "00000000-0000-4000-8000-0000000000b1"
OTHER_OWNER = "00000000-0000-4000-8000-0000000000b2"
OTHER_INSTANCE = "00000000-0000-4000-8000-0000000000b3"
AUDIT_KEY = b"test-audit-key-not-a-real-secret"

# A fictitious São Paulo mobile, and the forms it arrives under.
PHONE = "+5511987650001"
MODERN_JID = "5511987650001@s.whatsapp.net"
LEGACY_JID = "551187650001@s.whatsapp.net"
LID = "123456789012345@lid"
BYSTANDER_JID = "5511912340002@s.whatsapp.net"


def claims(user: str) -> dict[str, Any]:
    return {"sub": user, "role": "authenticated", "aud": "authenticated"}


def seed(dsn: str) -> None:
    with psycopg.connect(dsn) as conn:
        seed_tenant(
            conn, tenant_id=TENANT, name="Loja A", user_id=OWNER, email="dona@a.local",
            instance_id=INSTANCE, webhook_secret="wh-a",
        )  # fmt: skip
        seed_tenant(conn, tenant_id=TENANT, name="Loja A", user_id=ADMIN, email="adm@a.local", role="admin")
        seed_tenant(conn, tenant_id=TENANT, name="Loja A", user_id=AGENT, email="ag@a.local", role="agent")
        seed_tenant(
            conn, tenant_id=OTHER_TENANT, name="Loja B", user_id=OTHER_OWNER, email="dono@b.local",
            instance_id=OTHER_INSTANCE, webhook_secret="wh-b", gateway_instance="b",
        )  # fmt: skip


def message(message_id: str, chat: Identity, text: str = "oi, tudo bem?") -> MessageEvent:
    return MessageEvent(
        provider=Provider.EVOLUTION,
        instance="demo",
        provider_message_id=message_id,
        direction=Direction.INBOUND,
        chat=chat,
        kind=MessageKind.TEXT,
        text=text,
        occurred_at=datetime(2026, 11, 1, 12, 0, tzinfo=UTC),
        push_name="Fulano de Teste",
    )


def every_form() -> list[Identity]:
    """The same person as the modern JID, the legacy JID, and the @lid linked to the phone."""
    return [
        identity_from_jid(MODERN_JID),
        identity_from_jid(LEGACY_JID),
        identity_from_jid(LID, phone_hint=MODERN_JID),
    ]


@dataclass
class Wired:
    db: Database
    store: PgIngestStore
    service: PrivacyService
    dsn: str

    def count(self, sql: str, *params: Any) -> int:
        with psycopg.connect(self.dsn) as conn:
            row = conn.execute(sql, params).fetchone()
        assert row is not None
        return int(row[0])


def wire(dsn: str) -> Wired:
    db = Database(dsn, max_size=8)
    service = PrivacyService(
        admin=PgPrivacyAdmin(db), purge=PgPurgeStore(db), memberships=PgMembershipReader(db), audit_key=AUDIT_KEY
    )
    return Wired(db=db, store=PgIngestStore(db), service=service, dsn=dsn)


def contact_rows(w: Wired, tenant: str) -> dict[str, int]:
    """Rows in every table that can hold a trace of the person, in one tenant."""
    return {
        "contacts": w.count(
            "select count(*) from public.contacts where tenant_id = %s and phone_e164 = %s", tenant, PHONE
        ),
        "contact_aliases": w.count(
            "select count(*) from public.contact_aliases where tenant_id = %s and alias = any(%s)",
            tenant,
            [MODERN_JID, LEGACY_JID, LID],
        ),
        "messages": w.count(
            "select count(*) from public.messages m join public.contacts c on c.id = m.contact_id"
            " where m.tenant_id = %s and c.phone_e164 = %s",
            tenant,
            PHONE,
        ),
        "messages_by_chat": w.count(
            "select count(*) from public.messages where tenant_id = %s and chat_key = any(%s)",
            tenant,
            [PHONE, MODERN_JID, LEGACY_JID, LID],
        ),
        "conversations": w.count(
            "select count(*) from public.conversations where tenant_id = %s and chat_key = any(%s)",
            tenant,
            [PHONE, MODERN_JID, LEGACY_JID, LID],
        ),
    }


@contextmanager
def seeded_and_wired(db_dsn: str) -> Iterator[Wired]:
    """The two tenants seeded and the privacy service wired to them; the pool closed after."""
    seed(db_dsn)
    wired = wire(db_dsn)
    try:
        yield wired
    finally:
        wired.db.close()
