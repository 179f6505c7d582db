"""Bodies of the gateway-operation routes (send, deep links, instances, diagnostics), as the
frontend contract publishes them: closed objects, typed maps only."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from ponte.domain.outbound import ContactSpec, InteractiveSpec, LocationSpec, MediaSpec, OutboundKind, TemplateSpec

Scalar = str | int | float | bool | None


class Closed(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


def scalar_map(value: Any) -> dict[str, Scalar] | None:
    """A JSON object as a typed map: nested values become their JSON text."""
    if not isinstance(value, dict):
        return None
    return {
        str(k): v if v is None or isinstance(v, str | int | float | bool) else json.dumps(v, ensure_ascii=False)
        for k, v in value.items()
    }


class SendRequest(Closed):
    """A text (``type`` text, the default), or a template, media from a signed upload, a location, a
    contact card or interactive buttons / a list: ``type`` names which field carries it."""

    text: str = Field(default="", max_length=4096)
    idempotency_key: str = Field(min_length=8, max_length=200)
    suggestion_id: str | None = None
    type: OutboundKind = OutboundKind.TEXT
    template: TemplateSpec | None = None
    media: MediaSpec | None = None
    location: LocationSpec | None = None
    contact: ContactSpec | None = None
    interactive: InteractiveSpec | None = None


class TemplateSendRequest(Closed):
    """An approved template (the only message the Cloud API takes outside the 24-hour window)."""

    template: TemplateSpec
    idempotency_key: str = Field(min_length=8, max_length=200)


class MediaView(Closed):
    message_id: str
    kind: str
    state: Literal["pending", "stored", "too_large", "failed"]
    content_type: str | None
    size_bytes: int | None
    error_code: str | None
    transcript: str | None
    url: str | None
    expires_at: datetime | None


class MediaUploadRequest(Closed):
    conversation_id: str
    kind: Literal["image", "document", "audio", "video"]
    size_bytes: int = Field(ge=1)
    filename: str | None = Field(default=None, max_length=240)


class MediaUploadCreated(Closed):
    upload_id: str
    url: str
    fields: dict[str, str]
    expires_at: datetime
    max_bytes: int


class TemplateView(Closed):
    name: str
    language: str
    status: str
    category: str | None
    components: list[dict[str, Scalar]]
    synced_at: datetime


class TemplateList(Closed):
    instance_id: str
    items: list[TemplateView]
    synced_at: datetime | None


class StartConversationRequest(SendRequest):
    phone: str
    instance_id: str | None = None


class SendResponse(Closed):
    status: Literal["pending", "sent", "unconfirmed", "failed"]
    outbox_id: str
    conversation_id: str | None
    message_id: str | None
    provider_message_id: str | None
    idempotency_key: str
    suggestion_id: str | None
    suggestion_outcome: Literal["as_is", "edited"] | None
    attempts: int
    replayed: bool


class ContactCard(Closed):
    id: str | None
    display_name: str | None
    phone_e164: str | None


class ConversationRef(Closed):
    id: str | None  # null: a virtual conversation, stored when its first message is sent
    virtual: bool
    instance_id: str | None
    instance_ids: list[str] = []
    chat_key: str
    contact: ContactCard
    status: str | None = None
    priority: str | None = None
    last_message_at: datetime | None = None


class CustomerCard(Closed):
    id: str
    external_id: str
    name: str
    photo_url: str | None
    sales_summary: dict[str, Scalar]


class SendHintBody(Closed):
    phone: str


class SendHint(Closed):
    method: Literal["POST"]
    path: str
    body: SendHintBody | None = None


class DeepLinkResolved(Closed):
    tenant_id: str
    phone_e164: str
    signed: bool
    prefilled_text: str
    conversation: ConversationRef
    customer: CustomerCard | None
    send: SendHint


class DeepLinkCreate(Closed):
    tenant_id: str | None = None
    phone: str
    text: str = ""
    ttl_seconds: int = 7 * 24 * 3600


class DeepLinkCreated(Closed):
    query: str
    expires_at: int


class RecoveryView(Closed):
    phase: str
    reconnects: int
    resets: int
    qr_published: int
    qr_suppressed: int
    last_reason: str | None
    updated_at: datetime | None


class QrView(Closed):
    qr_code: str | None
    qr_image: str | None
    pairing_code: str | None
    generated_at: datetime


class InstanceView(Closed):
    instance_id: str
    provider: Literal["wppconnect", "evolution", "cloud"]
    gateway_instance: str
    status: str
    recovery: RecoveryView
    qr: QrView | None
    reason: str


class DiagnosticItem(Closed):
    id: int
    occurred_at: datetime
    tenant_id: str | None
    instance_id: str | None
    route: str
    event: str | None
    outcome: str
    status_code: int | None
    latency_ms: float | None
    error_code: str | None
    detail: dict[str, Scalar] | None


class DiagnosticsPage(Closed):
    items: list[DiagnosticItem]
    next_cursor: str | None
