"""Recovery state, status and QR codes of instances (service role; admins read under RLS)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import psycopg
from psycopg.types.json import Jsonb

from ponte.adapters.postgres.db import Database
from ponte.adapters.postgres.sending import gateway_target
from ponte.domain.gateway import SessionInfo
from ponte.domain.session_recovery import RecoveryPhase, RecoveryState
from ponte.ports.gateway import GatewayTarget
from ponte.ports.sessions import Claims, SessionHandle, SessionStore

_TARGET = (
    "select i.id::text as instance_id, i.tenant_id::text as tenant_id, i.provider, i.gateway_instance,"
    " i.gateway_base_url as base_url, i.credentials_secret_name from public.whatsapp_instances i"
)


def _uuid(value: str) -> bool:
    try:
        uuid.UUID(value)
    except ValueError:
        return False
    return True


class _PgHandle(SessionHandle):
    def __init__(self, conn: psycopg.Connection[Any], target: GatewayTarget, state: RecoveryState) -> None:
        self._conn = conn
        self._target = target
        self.state = state

    def save(self, state: RecoveryState, reason: str) -> None:
        self.state = state
        self._conn.execute(
            "update public.instance_sessions set state = %s, last_reason = %s, updated_at = now()"
            " where instance_id = %s",
            (Jsonb(state.model_dump(mode="json")), reason, self._target.instance_id),
        )

    def set_status(self, status: str) -> None:
        self._conn.execute(
            "update public.whatsapp_instances set status = %s where id = %s and status is distinct from %s",
            (status, self._target.instance_id, status),
        )

    def publish_qr(self, info: SessionInfo) -> None:
        self._conn.execute(
            "insert into public.instance_qr_codes (instance_id, tenant_id, qr_code, qr_image, pairing_code)"
            " values (%s, %s, %s, %s, %s) on conflict (instance_id) do update set qr_code = excluded.qr_code,"
            " qr_image = excluded.qr_image, pairing_code = excluded.pairing_code, generated_at = now()",
            (self._target.instance_id, self._target.tenant_id, info.qr_code, info.qr_image, info.pairing_code),
        )
        # a published code means a human must act; the broadcast of the status change tells the admins
        self.set_status("qr_pending")


class PgSessionStore(SessionStore):
    def __init__(self, db: Database) -> None:
        self._db = db

    def target(self, instance_id: str) -> GatewayTarget | None:
        if not _uuid(instance_id):
            return None
        with self._db.as_service() as conn:
            row = conn.execute(_TARGET + " where i.id = %s", (instance_id,)).fetchone()
        return gateway_target(row) if row else None

    def admin_target(self, claims: Claims, instance_id: str) -> GatewayTarget | None:
        if not _uuid(instance_id):
            return None
        with self._db.as_user(claims) as conn:
            row = conn.execute(
                _TARGET + " where i.id = %s and i.tenant_id in (select private.my_admin_tenant_ids())",
                (instance_id,),
            ).fetchone()
        return gateway_target(row) if row else None

    @contextmanager
    def hold(self, target: GatewayTarget) -> Iterator[SessionHandle]:
        with self._db.as_service(target.tenant_id) as conn:
            conn.execute(
                "insert into public.instance_sessions (instance_id, tenant_id) values (%s, %s)"
                " on conflict (instance_id) do nothing",
                (target.instance_id, target.tenant_id),
            )
            row = conn.execute(
                "select state from public.instance_sessions where instance_id = %s for update",
                (target.instance_id,),
            ).fetchone()
            assert row is not None
            yield _PgHandle(conn, target, RecoveryState.model_validate(row["state"] or {}))

    def view(self, claims: Claims, instance_id: str) -> dict[str, Any]:
        with self._db.as_user(claims) as conn:
            row = conn.execute(
                "select i.id::text as instance_id, i.provider, i.gateway_instance, i.status,"
                " s.state, s.last_reason, s.updated_at,"
                " q.qr_code, q.qr_image, q.pairing_code, q.generated_at"
                " from public.whatsapp_instances i"
                " left join public.instance_sessions s on s.instance_id = i.id"
                " left join public.instance_qr_codes q on q.instance_id = i.id"
                " where i.id = %s",
                (instance_id,),
            ).fetchone()
        if row is None:
            return {"instance_id": instance_id}
        state = RecoveryState.model_validate(row["state"] or {})
        qr = None
        # the code stays on screen while a scan is awaited, whatever the gateway reports meanwhile
        # (a status check moves a fresh session from qr_pending to connecting within a second)
        awaiting = row["status"] == "qr_pending" or (
            state.phase is RecoveryPhase.AWAITING_QR and row["status"] != "connected"
        )
        if row["generated_at"] is not None and awaiting:
            qr = {k: row[k] for k in ("qr_code", "qr_image", "pairing_code", "generated_at")}
        return {
            "instance_id": row["instance_id"],
            "provider": row["provider"],
            "gateway_instance": row["gateway_instance"],
            "status": row["status"],
            "recovery": {
                "phase": state.phase.value,
                "reconnects": state.reconnects,
                "resets": state.resets,
                "qr_published": state.qr_published,
                "qr_suppressed": state.qr_suppressed,
                "last_reason": row["last_reason"],
                "updated_at": row["updated_at"],
            },
            "qr": qr,
        }

    def instance_ids(self) -> Iterator[tuple[str, str]]:
        with self._db.as_service() as conn:
            rows = conn.execute(
                "select tenant_id::text, id::text from public.whatsapp_instances"
                # a Cloud API number has no session to recover (no QR, no socket): Meta keeps it
                " where credentials_secret_name is not null and provider <> 'cloud' order by created_at"
            ).fetchall()
        for row in rows:
            yield row["tenant_id"], row["id"]
