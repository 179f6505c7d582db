from __future__ import annotations

import uuid

from ponte.adapters.postgres.db import Database
from ponte.domain.instances import InstanceRecord
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
                "select id::text, tenant_id::text, provider, gateway_instance, webhook_secret_hash"
                " from public.whatsapp_instances where id = %s",
                (instance_id,),
            ).fetchone()
        return InstanceRecord.model_validate(row) if row else None
