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
        return self._one("i.id = %s", (instance_id,))

    def find_by_gateway(self, tenant_id: str, provider: str, gateway_instance: str) -> InstanceRecord | None:
        try:
            uuid.UUID(tenant_id)
        except ValueError:
            return None
        return self._one(
            "i.tenant_id = %s and i.provider = %s and i.gateway_instance = %s", (tenant_id, provider, gateway_instance)
        )

    def _one(self, where: str, params: tuple[str, ...]) -> InstanceRecord | None:
        with self._db.as_service() as conn:
            row = conn.execute(
                "select i.id::text, i.tenant_id::text, i.provider, i.gateway_instance, i.webhook_secret_hash,"
                " s.hmac_key, coalesce(s.header_name, %s) as signature_header,"
                " coalesce(s.scheme, 'hmac-sha256') as signature_scheme, i.credentials_secret_name"
                " from public.whatsapp_instances i"
                " left join private.instance_webhook_signing s on s.instance_id = i.id"
                f" where {where}",
                (DEFAULT_SIGNATURE_HEADER, *params),
            ).fetchone()
        return InstanceRecord.model_validate(row) if row else None
