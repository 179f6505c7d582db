"""Media rows: the media function's writes (as the service) and what a user reads or creates (RLS)."""

from __future__ import annotations

import uuid
from typing import Any

from ponte.adapters.postgres.db import Database
from ponte.adapters.postgres.sending import gateway_target
from ponte.domain.events import MessageKind
from ponte.domain.media import MediaState
from ponte.domain.outbound import OutboundKind
from ponte.ports.media import Claims, MediaReader, MediaRecords, MediaSource


def _uuid(value: str) -> bool:
    try:
        uuid.UUID(value)
    except ValueError:
        return False
    return True


class PgMediaRecords(MediaRecords):
    def __init__(self, db: Database) -> None:
        self._db = db

    def source(self, tenant_id: str, message_id: str) -> MediaSource | None:
        if not _uuid(message_id):
            return None
        with self._db.as_service(tenant_id) as conn:
            row = conn.execute(
                "select m.id::text as message_id, m.conversation_id::text as conversation_id, m.kind,"
                " m.provider_message_id, m.chat_key, m.direction, m.media, mm.state,"
                " i.id::text as instance_id, i.tenant_id::text as tenant_id, i.provider, i.gateway_instance,"
                " i.gateway_base_url as base_url, i.credentials_secret_name"
                " from public.messages m join public.whatsapp_instances i on i.id = m.instance_id"
                " left join public.message_media mm on mm.message_id = m.id"
                " where m.id = %s and m.tenant_id = %s",
                (message_id, tenant_id),
            ).fetchone()
        if row is None or row["kind"] not in MessageKind.__members__.values():
            return None
        media = row["media"] if isinstance(row["media"], dict) else {}
        return MediaSource(
            tenant_id=row["tenant_id"],
            message_id=row["message_id"],
            conversation_id=row["conversation_id"],
            target=gateway_target(row),
            kind=MessageKind(row["kind"]),
            provider_message_id=row["provider_message_id"],
            chat_key=row["chat_key"],
            from_me=row["direction"] == "out",
            provider_ref=media.get("provider_ref") if isinstance(media.get("provider_ref"), str) else None,
            mimetype=media.get("mimetype") if isinstance(media.get("mimetype"), str) else None,
            state=MediaState(row["state"]) if row["state"] else None,
        )

    def set_state(
        self,
        source: MediaSource,
        state: MediaState,
        *,
        object_key: str | None = None,
        content_type: str | None = None,
        size_bytes: int | None = None,
        error_code: str | None = None,
        transcript: str | None = None,
    ) -> None:
        with self._db.as_service(source.tenant_id) as conn:
            conn.execute(
                "insert into public.message_media (message_id, tenant_id, conversation_id, state, object_key,"
                " content_type, size_bytes, error_code, transcript, updated_at)"
                " values (%s, %s, %s, %s, %s, %s, %s, %s, %s, now())"
                " on conflict (message_id) do update set state = excluded.state, object_key = excluded.object_key,"
                " content_type = excluded.content_type, size_bytes = excluded.size_bytes,"
                " error_code = excluded.error_code, transcript = coalesce(excluded.transcript,"
                " public.message_media.transcript), updated_at = now()",
                (
                    source.message_id,
                    source.tenant_id,
                    source.conversation_id,
                    state.value,
                    object_key,
                    content_type,
                    size_bytes,
                    error_code,
                    transcript,
                ),
            )

    def trash(self, limit: int) -> list[str]:
        with self._db.as_service() as conn:
            rows = conn.execute(
                "select object_key from private.media_trash order by trashed_at limit %s", (limit,)
            ).fetchall()
        return [r["object_key"] for r in rows]

    def forget(self, keys: list[str]) -> None:
        with self._db.as_service() as conn:
            conn.execute("delete from private.media_trash where object_key = any(%s)", (keys,))


class PgMediaReader(MediaReader):
    def __init__(self, db: Database) -> None:
        self._db = db

    def media_of(self, claims: Claims, message_id: str) -> dict[str, Any] | None:
        if not _uuid(message_id):
            return None
        with self._db.as_user(claims) as conn:
            row = conn.execute(
                "select m.id::text as message_id, m.kind, m.media, mm.state, mm.object_key, mm.content_type,"
                " mm.size_bytes, mm.error_code, mm.transcript"
                " from public.messages m left join public.message_media mm on mm.message_id = m.id where m.id = %s",
                (message_id,),
            ).fetchone()
        return dict(row) if row else None

    def conversation_tenant(self, claims: Claims, conversation_id: str) -> str | None:
        if not _uuid(conversation_id):
            return None
        with self._db.as_user(claims) as conn:
            row = conn.execute(
                "select tenant_id::text as tenant_id from public.conversations where id = %s", (conversation_id,)
            ).fetchone()
        return row["tenant_id"] if row else None

    def record_upload(
        self,
        claims: Claims,
        *,
        tenant_id: str,
        conversation_id: str,
        kind: OutboundKind,
        filename: str | None,
        max_bytes: int,
        upload_id: str,
        object_key: str,
    ) -> None:
        with self._db.as_user(claims) as conn:
            conn.execute(
                "insert into public.media_uploads (id, tenant_id, conversation_id, kind, filename, max_bytes,"
                " object_key, created_by) values (%s, %s, %s, %s, %s, %s, %s, (select auth.uid()))",
                (upload_id, tenant_id, conversation_id, kind.value, filename, max_bytes, object_key),
            )

    def upload_of(self, claims: Claims, upload_id: str) -> dict[str, Any] | None:
        if not _uuid(upload_id):
            return None
        with self._db.as_user(claims) as conn:
            row = conn.execute(
                "select id::text as id, tenant_id::text as tenant_id, conversation_id::text as conversation_id,"
                " kind, filename, max_bytes, object_key from public.media_uploads where id = %s",
                (upload_id,),
            ).fetchone()
        return dict(row) if row else None
