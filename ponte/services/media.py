"""Media both ways: received files fetched into the media bucket, read back through short-lived
signed URLs, files uploaded to send, and the objects deleted rows leave behind.

- ``fetch``: one queued job per stored media message (emitted after the ingest commit): the file
  comes from the gateway (Evolution ``getBase64FromMediaMessage``, WPPConnect
  ``get-media-by-message``, the Cloud API's media id -> URL with the token), capped per kind
  (``too_large`` without keeping a byte), typed by its bytes, kept under the tenant's prefix.
  A transient gateway failure raises (the queue retries); a definite one is ``failed``.
- ``view``: the state, and a signed download URL once stored (under the caller's RLS).
- ``create_upload``: a signed upload form for a file to send, capped to its kind's limit.
- ``empty_trash``: the objects of deleted rows (a hidden contact's purge) are deleted.
"""

from __future__ import annotations

import logging
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import filetype

from ponte.domain.events import MessageKind
from ponte.domain.gateway import MediaRef, MediaUpload
from ponte.domain.media import (
    FETCHED_KINDS,
    MAX_BYTES,
    SIGNED_URL_SECONDS,
    MediaJob,
    MediaState,
    object_key,
    served_type,
    upload_key,
)
from ponte.domain.outbound import MEDIA_KINDS, OutboundKind
from ponte.ports.gateway import GatewayAmbiguousError, GatewayError, GatewayFactory, GatewayUnavailableError
from ponte.ports.media import Claims, MediaReader, MediaRecords, MediaUploadNotFound, MediaUploads, ObjectStore
from ponte.ports.transcription import Transcriber
from ponte.services.exceptions import BadRequestError, NotFoundError, UnprocessableError

logger = logging.getLogger(__name__)

UPLOAD_SECONDS = 600
TRASH_BATCH = 500
# What each outbound kind may be, by its bytes (documents: anything; the gateways send it as a file).
_UPLOAD_TYPES = {OutboundKind.IMAGE: ("image/jpeg", "image/png", "image/webp"), OutboundKind.AUDIO: ("audio/",),
                 OutboundKind.VIDEO: ("video/",), OutboundKind.DOCUMENT: ("",)}  # fmt: skip
_UPLOAD_CAPS = {
    OutboundKind.IMAGE: MAX_BYTES[MessageKind.IMAGE],
    OutboundKind.AUDIO: MAX_BYTES[MessageKind.AUDIO],
    OutboundKind.VIDEO: MAX_BYTES[MessageKind.VIDEO],
    OutboundKind.DOCUMENT: MAX_BYTES[MessageKind.DOCUMENT],
}


def sniff(data: bytes) -> str | None:
    """The type the bytes say they are (magic numbers), or None."""
    kind = filetype.guess(data[:8192])
    return kind.mime if kind is not None else None


def _jid(chat_key: str) -> str | None:
    if "@" in chat_key:
        return chat_key
    return f"{chat_key.lstrip('+')}@s.whatsapp.net" if chat_key.startswith("+") else None


class MediaService(MediaUploads):
    def __init__(
        self,
        *,
        store: ObjectStore,
        records: MediaRecords | None = None,
        reader: MediaReader | None = None,
        gateways: GatewayFactory | None = None,
        transcriber: Transcriber | None = None,
    ) -> None:
        self._store = store
        self._records = records
        self._reader = reader
        self._gateways = gateways
        self._transcriber = transcriber

    # -- inbound ----------------------------------------------------------------------------------

    def fetch(self, job: MediaJob) -> str:
        """Fetch one message's file; the state it ends in (or why nothing was done)."""
        assert self._records is not None and self._gateways is not None
        source = self._records.source(job.tenant_id, job.message_id)
        if source is None or source.kind not in FETCHED_KINDS:
            return "skipped"
        if source.state in (MediaState.STORED, MediaState.TOO_LARGE):
            return source.state.value  # a redelivered job: already done
        cap = MAX_BYTES[source.kind]
        ref = MediaRef(
            provider_message_id=source.provider_message_id,
            remote_jid=_jid(source.chat_key),
            from_me=source.from_me,
            provider_ref=source.provider_ref,
        )
        try:
            fetched = self._gateways.for_instance(source.target).fetch_media(ref, cap)
        except (GatewayAmbiguousError, GatewayUnavailableError):
            raise  # transient: the queue delivers the job again
        except GatewayError as exc:
            self._records.set_state(source, MediaState.FAILED, error_code=exc.code)
            return MediaState.FAILED.value
        if fetched.too_large or len(fetched.data) > cap:
            self._records.set_state(source, MediaState.TOO_LARGE, error_code="too_large")
            return MediaState.TOO_LARGE.value
        if not fetched.data:
            self._records.set_state(source, MediaState.FAILED, error_code="empty_file")
            return MediaState.FAILED.value
        content_type = served_type(sniff(fetched.data), fetched.declared_type or source.mimetype)
        key = object_key(source.tenant_id, source.message_id)
        self._store.put(key, fetched.data, content_type)
        transcript = None
        if self._transcriber is not None and source.kind is MessageKind.VOICE:
            transcript = self._transcriber.transcribe(fetched.data, content_type)
        self._records.set_state(
            source,
            MediaState.STORED,
            object_key=key,
            content_type=content_type,
            size_bytes=len(fetched.data),
            transcript=transcript,
        )
        return MediaState.STORED.value

    def view(self, claims: Claims, message_id: str) -> dict[str, Any]:
        """The file of a message the caller may see: its state, and a signed URL once stored."""
        assert self._reader is not None
        row = self._reader.media_of(claims, message_id)
        if row is None:
            raise NotFoundError("no such message", code="message_not_found")
        if row["kind"] not in FETCHED_KINDS:
            raise NotFoundError("this message has no file", code="no_media")
        state = MediaState(row["state"]) if row["state"] else MediaState.PENDING
        media = row["media"] if isinstance(row["media"], dict) else {}
        view: dict[str, Any] = {
            "message_id": row["message_id"],
            "kind": row["kind"],
            "state": state.value,
            "content_type": row["content_type"],
            "size_bytes": row["size_bytes"],
            "error_code": row["error_code"],
            "transcript": row["transcript"],
            "url": None,
            "expires_at": None,
        }
        if state is MediaState.STORED and row["object_key"]:
            filename = media.get("filename") if isinstance(media.get("filename"), str) else None
            view["url"] = self._store.signed_get(
                row["object_key"], content_type=row["content_type"], filename=filename, seconds=SIGNED_URL_SECONDS
            )
            view["expires_at"] = datetime.now(UTC) + timedelta(seconds=SIGNED_URL_SECONDS)
        return view

    # -- outbound ---------------------------------------------------------------------------------

    def create_upload(
        self, claims: Claims, conversation_id: str, kind: Any, size_bytes: Any, filename: Any
    ) -> dict[str, Any]:
        """A signed upload form for one file to send in the conversation."""
        assert self._reader is not None
        if kind not in [k.value for k in MEDIA_KINDS]:
            raise BadRequestError("kind must be image, document, audio or video", code="invalid_kind")
        outbound = OutboundKind(kind)
        cap = _UPLOAD_CAPS[outbound]
        if isinstance(size_bytes, bool) or not isinstance(size_bytes, int) or size_bytes < 1:
            raise BadRequestError("size_bytes must be a positive integer", code="invalid_size")
        if size_bytes > cap:
            raise UnprocessableError(f"a {kind} may have at most {cap} bytes", code="too_large")
        if filename is not None and (not isinstance(filename, str) or not 1 <= len(filename) <= 240
                                     or not filename.isprintable() or "/" in filename):  # fmt: skip
            raise BadRequestError(
                "filename must be a printable name of at most 240 characters", code="invalid_filename"
            )
        tenant_id = self._reader.conversation_tenant(claims, conversation_id)
        if tenant_id is None:
            raise NotFoundError("no such conversation", code="conversation_not_found")
        upload_id = str(uuid.uuid4())
        key = upload_key(tenant_id, upload_id)
        self._reader.record_upload(
            claims,
            tenant_id=tenant_id,
            conversation_id=conversation_id,
            kind=outbound,
            filename=filename,
            max_bytes=size_bytes,
            upload_id=upload_id,
            object_key=key,
        )
        form = self._store.signed_post(key, max_bytes=size_bytes, seconds=UPLOAD_SECONDS)
        return {"upload_id": upload_id, "url": form.url, "fields": form.fields, "expires_at": form.expires_at,
                "max_bytes": size_bytes}  # fmt: skip

    def check_upload(self, claims: Claims, upload_id: str, kind: OutboundKind, conversation_id: str | None) -> None:
        """Before a media send: the upload is the caller's tenant's, of that kind, for that conversation."""
        assert self._reader is not None
        row = self._reader.upload_of(claims, upload_id)
        if row is None or row["kind"] != kind.value or (conversation_id and row["conversation_id"] != conversation_id):
            raise UnprocessableError("no such upload of that kind for this conversation", code="upload_not_found")

    def read_upload(self, tenant_id: str, upload_id: str, kind: OutboundKind) -> MediaUpload:
        cap = _UPLOAD_CAPS.get(kind)
        if cap is None:
            raise MediaUploadNotFound(upload_id)
        data = self._store.get(upload_key(tenant_id, upload_id), cap)
        if not data or len(data) > cap:
            raise MediaUploadNotFound(upload_id)
        sniffed = sniff(data)
        content_type = sniffed or "application/octet-stream"
        if not any(content_type.startswith(prefix) for prefix in _UPLOAD_TYPES[kind]):
            raise MediaUploadNotFound(upload_id)
        extension = filetype.get_type(mime=content_type)
        name = f"arquivo.{extension.extension}" if extension is not None else None
        return MediaUpload(data=data, content_type=content_type, filename=name)

    # -- deletions --------------------------------------------------------------------------------

    def empty_trash(self) -> int:
        """Delete the objects deleted rows left behind (a purge, an erased contact); how many."""
        assert self._records is not None
        total = 0
        while True:
            keys = self._records.trash(TRASH_BATCH)
            if not keys:
                return total
            self._store.delete(keys)
            self._records.forget(keys)
            total += len(keys)
            if len(keys) < TRASH_BATCH:
                return total
