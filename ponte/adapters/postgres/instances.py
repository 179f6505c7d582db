from __future__ import annotations

import uuid

from ponte.adapters.postgres.db import Database
from ponte.domain.instances import DEFAULT_SIGNATURE_HEADER, InstanceRecord
from ponte.ports.instances import InstanceDirectory


class PgInstanceDirectory(InstanceDirectory):
    def __init__(self, db: Database) -> None:
        self._db = db

    def find(self, instance_id: str) -> InstanceRecord | None:
        try:
            uuid.UUID(instance_id)
        except ValueError:
            return None
        with self._db.as_service() as conn:
            row = conn.execute(
                "select i.id::text, i.tenant_id::text, i.provider, i.gateway_instance, i.webhook_secret_hash,"
                " s.hmac_key, coalesce(s.header_name, %s) as signature_header,"
                " coalesce(s.scheme, 'hmac-sha256') as signature_scheme"
                " from public.whatsapp_instances i"
                " left join private.instance_webhook_signing s on s.instance_id = i.id"
                " where i.id = %s",
                (DEFAULT_SIGNATURE_HEADER, instance_id),
            ).fetchone()
        return InstanceRecord.model_validate(row) if row else None
