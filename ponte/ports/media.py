"""The media bucket and the media rows as the services need them (S3 in production, moto's S3
locally; PostgreSQL under RLS for what a user reads)."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from ponte.domain.events import MessageKind
from ponte.domain.gateway import MediaUpload
from ponte.domain.media import MediaJob, MediaState
from ponte.domain.outbound import OutboundKind
from ponte.ports.gateway import GatewayTarget

Claims = Mapping[str, Any]


class MediaJobQueue(ABC):
    @abstractmethod
    def enqueue(self, job: MediaJob) -> None: ...


class MediaUploadNotFound(Exception):
    """No upload with that id for the tenant (or its file is missing, or not of that kind)."""


class MediaUploads(ABC):
    @abstractmethod
    def read_upload(self, tenant_id: str, upload_id: str, kind: OutboundKind) -> MediaUpload:
        """The bytes an agent uploaded through a signed upload URL, sniffed; raises MediaUploadNotFound."""


@dataclass(frozen=True)
class SignedUpload:
    url: str
    fields: dict[str, str]  # the form fields a browser posts with the file (S3 presigned POST)
    expires_at: datetime


class ObjectStore(ABC):
    """The media bucket."""

    @abstractmethod
    def put(self, key: str, data: bytes, content_type: str) -> None: ...

    @abstractmethod
    def get(self, key: str, max_bytes: int) -> bytes | None:
        """At most ``max_bytes`` + 1 bytes of the object (None when there is none)."""

    @abstractmethod
    def delete(self, keys: list[str]) -> None: ...

    @abstractmethod
    def keys(self, prefix: str) -> list[str]: ...

    @abstractmethod
    def signed_get(self, key: str, *, content_type: str, filename: str | None, seconds: int) -> str:
        """A short-lived URL that downloads the object with that type (as an attachment unless an image,
        audio or video a browser shows safely)."""

    @abstractmethod
    def signed_post(self, key: str, *, max_bytes: int, seconds: int) -> SignedUpload:
        """A short-lived form upload of at most ``max_bytes`` to ``key``."""


@dataclass(frozen=True)
class MediaSource:
    """What the media function needs to fetch one message's file."""

    tenant_id: str
    message_id: str
    conversation_id: str
    target: GatewayTarget
    kind: MessageKind
    provider_message_id: str
    chat_key: str
    from_me: bool
    provider_ref: str | None
    mimetype: str | None
    state: MediaState | None  # None: no media row yet


class MediaRecords(ABC):
    """The media rows the media function writes (as the service)."""

    @abstractmethod
    def source(self, tenant_id: str, message_id: str) -> MediaSource | None: ...

    @abstractmethod
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
    ) -> None: ...

    @abstractmethod
    def trash(self, limit: int) -> list[str]:
        """Bucket keys of deleted rows, oldest first."""

    @abstractmethod
    def forget(self, keys: list[str]) -> None:
        """The objects are deleted: their trash rows go."""


class MediaReader(ABC):
    """What a user may read and create, under their RLS."""

    @abstractmethod
    def media_of(self, claims: Claims, message_id: str) -> dict[str, Any] | None:
        """The message's kind and its media row (None: no such message for the caller)."""

    @abstractmethod
    def conversation_tenant(self, claims: Claims, conversation_id: str) -> str | None:
        """The tenant of a conversation the caller may see."""

    @abstractmethod
    def record_upload(
        self, claims: Claims, *, tenant_id: str, conversation_id: str, kind: OutboundKind, filename: str | None,
        max_bytes: int, upload_id: str, object_key: str,
    ) -> None: ...  # fmt: skip

    @abstractmethod
    def upload_of(self, claims: Claims, upload_id: str) -> dict[str, Any] | None:
        """The caller's tenant's upload (kind, filename, object key, conversation)."""
