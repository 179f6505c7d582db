"""The message-template cache: read under the caller's RLS, written by the service after a sync."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from psycopg.types.json import Jsonb

from ponte.adapters.postgres.db import Database
from ponte.adapters.postgres.sending import gateway_target
from ponte.domain.gateway import MessageTemplate
from ponte.ports.gateway import GatewayTarget
from ponte.ports.templates import Claims, TemplateStore


class PgTemplateStore(TemplateStore):
    def __init__(self, db: Database) -> None:
        self._db = db

    def instance(self, claims: Claims, instance_id: str) -> GatewayTarget | None:
        try:
            uuid.UUID(instance_id)
        except ValueError:
            return None
        with self._db.as_user(claims) as conn:
            row = conn.execute(
                "select i.id::text as instance_id, i.tenant_id::text as tenant_id, i.provider, i.gateway_instance,"
                " i.gateway_base_url as base_url, i.credentials_secret_name from public.whatsapp_instances i"
                " where i.id = %s",
                (instance_id,),
            ).fetchone()
        return gateway_target(row) if row else None

    def cached(self, claims: Claims, instance_id: str) -> tuple[list[dict[str, Any]], datetime | None]:
        with self._db.as_user(claims) as conn:
            rows = conn.execute(
                "select name, language, status, category, components, synced_at from public.message_templates"
                " where instance_id = %s order by name, language",
                (instance_id,),
            ).fetchall()
        return [dict(r) for r in rows], min((r["synced_at"] for r in rows), default=None)

    def replace(self, tenant_id: str, instance_id: str, templates: Sequence[MessageTemplate], at: datetime) -> None:
        with self._db.as_service(tenant_id) as conn:
            conn.execute("delete from public.message_templates where instance_id = %s", (instance_id,))
            for t in templates:
                conn.execute(
                    "insert into public.message_templates"
                    " (tenant_id, instance_id, name, language, status, category, components, synced_at)"
                    " values (%s, %s, %s, %s, %s, %s, %s, %s) on conflict (instance_id, name, language) do nothing",
                    (tenant_id, instance_id, t.name, t.language, t.status, t.category, Jsonb(list(t.components)), at),
                )
