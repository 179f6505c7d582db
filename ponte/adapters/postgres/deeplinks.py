from __future__ import annotations

from typing import Any

from ponte.adapters.postgres.db import Database
from ponte.adapters.postgres.sending import find_conversation
from ponte.ports.deeplinks import Claims, DeepLinkReader


class PgDeepLinkReader(DeepLinkReader):
    def __init__(self, db: Database) -> None:
        self._db = db

    def member_tenants(self, claims: Claims) -> list[tuple[str, str]]:
        with self._db.as_user(claims) as conn:
            rows = conn.execute(
                "select tenant_id::text, role from public.memberships where user_id = (select auth.uid())"
            ).fetchall()
        return [(r["tenant_id"], r["role"]) for r in rows]

    def conversation(self, claims: Claims, tenant_id: str, phone_e164: str) -> dict[str, Any] | None:
        with self._db.as_user(claims) as conn:
            found = find_conversation(conn, tenant_id, None, phone_e164)
            if found is None:
                return None
            row: dict[str, Any] | None = conn.execute(
                "select c.id::text as id, c.instance_id::text as instance_id, c.chat_key, c.status, c.priority,"
                " c.last_message_at, jsonb_build_object('id', ct.id, 'display_name', ct.display_name,"
                " 'phone_e164', ct.phone_e164) as contact"
                " from public.conversations c join public.contacts ct on ct.id = c.contact_id where c.id = %s",
                (found["id"],),
            ).fetchone()
        return row

    def customer(self, claims: Claims, tenant_id: str, phone_e164: str) -> dict[str, Any] | None:
        with self._db.as_user(claims) as conn:
            row: dict[str, Any] | None = conn.execute(
                "select id::text, external_id, name, photo_url, sales_summary from public.customers"
                " where tenant_id = %s and phone_e164 = %s order by updated_at desc limit 1",
                (tenant_id, phone_e164),
            ).fetchone()
        return row

    def instances(self, claims: Claims, tenant_id: str) -> list[str]:
        with self._db.as_user(claims) as conn:
            rows = conn.execute(
                "select id::text from public.whatsapp_instances where tenant_id = %s order by created_at",
                (tenant_id,),
            ).fetchall()
        return [r["id"] for r in rows]
