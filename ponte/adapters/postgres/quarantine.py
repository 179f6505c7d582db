"""The webhook quarantine in Postgres (written and replayed by the service role only)."""

from __future__ import annotations

from ponte.adapters.postgres.db import Database
from ponte.domain.quarantine import QuarantinedPayload, QuarantineEntry
from ponte.ports.quarantine import QuarantineStore


class PgQuarantineStore(QuarantineStore):
    def __init__(self, db: Database) -> None:
        self._db = db

    def put(self, entry: QuarantineEntry) -> None:
        with self._db.as_service(entry.tenant_id) as conn:
            conn.execute(
                "insert into public.webhook_quarantine (tenant_id, instance_id, provider, reason_code, detail, event,"
                " raw_payload, payload_bytes, truncated) values (%s, %s, %s, %s, %s, %s, %s, %s, %s)",
                (
                    entry.tenant_id,
                    entry.instance_id,
                    entry.provider,
                    entry.reason_code,
                    entry.detail,
                    entry.event,
                    entry.raw_payload.replace("\x00", "\ufffd"),  # text columns refuse NUL
                    entry.payload_bytes,
                    entry.truncated,
                ),
            )

    def pending(self, *, tenant_id: str | None = None, limit: int = 100) -> list[QuarantinedPayload]:
        with self._db.as_service(tenant_id) as conn:
            rows = conn.execute(
                "select id, tenant_id::text, instance_id::text, provider, reason_code, raw_payload, truncated,"
                " received_at from public.webhook_quarantine"
                " where replayed_at is null and (%s::uuid is null or tenant_id = %s::uuid)"
                " order by received_at, id limit %s",
                (tenant_id, tenant_id, limit),
            ).fetchall()
        return [QuarantinedPayload.model_validate(row) for row in rows]

    def mark_replayed(self, entry_id: int, outcome: str, reason: str | None) -> None:
        with self._db.as_service() as conn:
            conn.execute(
                "update public.webhook_quarantine set replayed_at = now(), replay_outcome = %s, replay_reason = %s"
                " where id = %s",
                (outcome, reason, entry_id),
            )
