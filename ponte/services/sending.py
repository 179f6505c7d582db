"""Send a text through the gateway: an explicit human action, idempotent, never blindly retried.

1. The outbox row (idempotency key, request hash) is written before the gateway is called.
2. One call to the gateway's send; it is never retried automatically.
3. Accepted -> the message is stored once, with the gateway's message id and the chat key
   the normalizers give the chat, so the gateway's echo webhook is a no-op.
4. Timeout / 5xx -> "unconfirmed": the own outbox (an echo stored meanwhile) and then the
   gateway's recent messages are checked. Found -> sent. Not found -> 202; a retry with the
   same key checks again and only sends again once the first attempt is old enough that an
   echo would have arrived, and the gateway shows no such message.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from ponte.domain.feedback import outcome_of
from ponte.domain.gateway import MediaUpload, SentMessage
from ponte.domain.identity import canonical_phone
from ponte.domain.outbound import OutboundContent, OutboundKind, text_content
from ponte.domain.outbox import (
    MAX_TEXT_CHARS,
    OutboxRecord,
    OutboxStatus,
    request_hash,
    same_text,
)
from ponte.domain.service_window import template_route, window_applies, window_open
from ponte.ports.clock import Clock
from ponte.ports.gateway import (
    GatewayAmbiguousError,
    GatewayAuthError,
    GatewayError,
    GatewayFactory,
    GatewayNotConfiguredError,
    GatewayNotLoggedError,
    GatewayRejectedError,
    GatewayUnavailableError,
    GatewayUnsupportedError,
)
from ponte.ports.media import MediaUploadNotFound, MediaUploads
from ponte.ports.sending import OutboxDraft, SendStore, SendTarget, SuggestionNotFound, Suggestions
from ponte.services.exceptions import (
    BadGatewayError,
    BadRequestError,
    ConflictError,
    NotFoundError,
    ServiceError,
    ServiceUnavailableError,
    UnprocessableError,
)

Claims = Mapping[str, Any]
# what follows an agent's send: the lifecycle's reply clocks (record, the agent's user id)
SentHook = Callable[[OutboxRecord, str | None], None]

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class SendCommand:
    text: str
    idempotency_key: str
    suggestion_id: str | None = None
    conversation_id: str | None = None
    # a virtual conversation (deep link): the phone, and the instance when the tenant has several
    phone: str | None = None
    instance_id: str | None = None
    # a template, media, location, contact card or interactive message; None: the text above
    content: OutboundContent | None = None


class OutsideServiceWindowError(UnprocessableError):
    """A free-form message to a Cloud API contact who has not written in 24 hours: only an approved
    template may go; ``data.template_route`` says where to send one."""

    code = "outside_service_window"

    def __init__(self, conversation_id: str | None) -> None:
        route = template_route(conversation_id)
        super().__init__(
            f"more than 24 hours since the contact last wrote: only an approved template may be sent (POST {route})"
        )
        self.data = {"template_route": route}


@dataclass(frozen=True)
class SendResult:
    status_code: int  # 201 sent now, 200 an earlier send with this key, 202 unconfirmed
    record: OutboxRecord
    replayed: bool = False

    def body(self) -> dict[str, Any]:
        r = self.record
        return {
            "status": r.status.value,
            "outbox_id": r.id,
            "conversation_id": r.conversation_id,
            "message_id": r.message_id,
            "provider_message_id": r.provider_message_id,
            "idempotency_key": r.idempotency_key,
            "suggestion_id": r.suggestion_id,
            "suggestion_outcome": r.suggestion_outcome.value if r.suggestion_outcome else None,
            "attempts": r.attempts,
            "replayed": self.replayed,
        }


class SendService:
    def __init__(
        self,
        *,
        store: SendStore,
        gateways: GatewayFactory,
        suggestions: Suggestions,
        clock: Clock | None = None,
        resend_after_seconds: float = 60.0,
        stale_pending_seconds: float = 120.0,
        echo_window_seconds: float = 120.0,
        on_sent: SentHook | None = None,
        uploads: MediaUploads | None = None,
    ) -> None:
        self._uploads = uploads
        self._store = store
        self._gateways = gateways
        self._suggestions = suggestions
        self._clock = clock or Clock()
        self._resend_after = timedelta(seconds=resend_after_seconds)
        self._stale_pending = timedelta(seconds=stale_pending_seconds)
        self._echo_window = echo_window_seconds
        self._on_sent = on_sent

    def send(self, claims: Claims, command: SendCommand) -> SendResult:
        content = _validate(command)
        text = content.preview()
        target = self._target(claims, command)
        outcome = None
        if command.suggestion_id and content.kind is OutboundKind.TEXT:
            try:
                suggested = self._suggestions.text_of(claims, command.suggestion_id, target.conversation_id)
            except SuggestionNotFound as exc:
                raise UnprocessableError("no such suggestion in this conversation", code="unknown_suggestion") from exc
            outcome = outcome_of(suggested, text)
        draft = OutboxDraft(
            target=target,
            idempotency_key=command.idempotency_key,
            request_hash=request_hash(
                target=target.conversation_id or f"{target.gateway.instance_id}:{target.chat_key}",
                text=text,
                suggestion_id=command.suggestion_id,
                content=content,
            ),
            body=text,
            suggestion_id=command.suggestion_id,
            suggestion_outcome=outcome,
            content=content if content.kind is not OutboundKind.TEXT else None,
        )
        record, created = self._store.begin(claims, draft)
        if created:
            return self._attempt(claims, target, record)
        return self._again(claims, target, draft, record)

    def send_automatic(
        self, tenant_id: str, conversation_id: str, *, kind: str, text: str, idempotency_key: str
    ) -> SendResult:
        """An automatic message (greeting, queue position, CSAT...): the same outbox, idempotency and
        gateway path as an agent's send, as the service, marked ``origin = 'automatic'``."""
        claims: Claims = {"role": "service_role", "tenant_id": tenant_id}
        text = _validate_text(SendCommand(text=text, idempotency_key=idempotency_key, conversation_id=conversation_id))
        target = self._store.conversation_target(claims, conversation_id)
        if target is None:
            raise NotFoundError("no such conversation", code="conversation_not_found")
        draft = OutboxDraft(
            target=target,
            idempotency_key=idempotency_key,
            request_hash=request_hash(target=conversation_id, text=text, suggestion_id=None),
            body=text,
            origin="automatic",
            automatic_kind=kind,
        )
        record, created = self._store.begin(claims, draft)
        if created:
            return self._attempt(claims, target, record)
        if record.status is OutboxStatus.SENT:
            return SendResult(200, record, replayed=True)
        return self._again(claims, target, draft.model_copy(update={"request_hash": record.request_hash}), record)

    def send_campaign(
        self,
        tenant_id: str,
        *,
        instance_id: str,
        phone_e164: str,
        text: str,
        idempotency_key: str,
        content: OutboundContent | None = None,
    ) -> SendResult:
        """A campaign message (or its opt-out confirmation): the same outbox, idempotency and gateway
        path as an agent's send, as the service, to the number from the campaign's instance (its
        conversation there, or a virtual one stored when sent), marked ``origin = 'campaign'``. The
        key is the recipient's: a redelivered job finds the first attempt instead of sending again.
        ``content``: an approved template on the Cloud API (``text`` is then what the outbox shows)."""
        claims: Claims = {"role": "service_role", "tenant_id": tenant_id}
        text = _validate_text(SendCommand(text=text, idempotency_key=idempotency_key))
        target = self._store.phone_target(claims, instance_id, phone_e164)
        if target is None:
            raise NotFoundError("no WhatsApp instance to send from", code="instance_not_found")
        draft = OutboxDraft(
            target=target,
            idempotency_key=idempotency_key,
            request_hash=request_hash(
                target=f"{instance_id}:{phone_e164}", text=text, suggestion_id=None, content=content
            ),
            body=text,
            origin="campaign",
            content=content if content is not None and content.kind is not OutboundKind.TEXT else None,
        )
        record, created = self._store.begin(claims, draft)
        if created:
            return self._attempt(claims, target, record)
        if record.status is OutboxStatus.SENT:
            return SendResult(200, record, replayed=True)
        return self._again(claims, target, draft, record)

    # --- a key seen before ---------------------------------------------------------------------

    def _again(self, claims: Claims, target: SendTarget, draft: OutboxDraft, record: OutboxRecord) -> SendResult:
        if record.request_hash != draft.request_hash:
            raise ConflictError("this idempotency key was used for another message", code="idempotency_key_reused")
        age = self._clock.now() - record.created_at
        if record.status is OutboxStatus.SENT:
            return SendResult(200, record, replayed=True)
        if record.status is OutboxStatus.PENDING and self._clock.now() - record.updated_at < self._stale_pending:
            raise ConflictError("this message is being sent", code="send_in_progress")
        if record.status is OutboxStatus.FAILED:
            return self._attempt(claims, target, record)
        # unconfirmed (or pending whose process died): look before sending again
        confirmed = self._reconcile(claims, target, record)
        if confirmed is not None:
            return SendResult(200, confirmed, replayed=True)
        if age < self._resend_after:
            return SendResult(202, self._store.mark(claims, record.id, OutboxStatus.UNCONFIRMED))
        return self._attempt(claims, target, record)

    # --- one gateway call ----------------------------------------------------------------------

    def _attempt(self, claims: Claims, target: SendTarget, record: OutboxRecord) -> SendResult:
        record = self._store.mark(claims, record.id, OutboxStatus.PENDING, attempt=True)
        try:
            content = record.content()
            self._check_window(claims, target, content)
            gateway = self._gateways.for_instance(target.gateway)
            if content.kind is OutboundKind.TEXT:
                sent = gateway.send_text(target.recipient, record.body)
            else:
                sent = gateway.send_content(target.recipient, content, self._media_of(claims, record, content))
        except ServiceError as exc:  # refused before any call (the window, a missing upload)
            self._store.mark(claims, record.id, OutboxStatus.FAILED, error_code=exc.code)
            raise
        except GatewayAmbiguousError as exc:
            self._store.mark(claims, record.id, OutboxStatus.UNCONFIRMED, error_code=exc.code)
            confirmed = self._reconcile(claims, target, record)
            if confirmed is not None:
                return SendResult(201, confirmed)
            return SendResult(202, self._store.mark(claims, record.id, OutboxStatus.UNCONFIRMED, error_code=exc.code))
        except GatewayError as exc:
            self._store.mark(claims, record.id, OutboxStatus.FAILED, error_code=exc.code)
            if isinstance(exc, GatewayNotLoggedError):
                self._store.set_instance_status(target.gateway.instance_id, target.gateway.tenant_id, "not_logged")
            raise gateway_error(exc) from exc
        except Exception:
            # a bug or a dependency down before the gateway answered: the row says it failed (never
            # a pending send that looks under way) and the error reaches the boundary as it is
            self._store.mark(claims, record.id, OutboxStatus.FAILED, error_code="internal_error")
            raise
        return SendResult(201, self._sent(claims, record, sent))

    def _check_window(self, claims: Claims, target: SendTarget, content: OutboundContent) -> None:
        """Before any call to Meta: outside the 24-hour window only a template may go."""
        if not window_applies(target.gateway.provider) or content.kind is OutboundKind.TEMPLATE:
            return
        last = self._store.last_inbound_at(claims, target.conversation_id) if target.conversation_id else None
        if not window_open(last, self._clock.now()):
            raise OutsideServiceWindowError(target.conversation_id)

    def _media_of(self, claims: Claims, record: OutboxRecord, content: OutboundContent) -> MediaUpload | None:
        """The uploaded file of a media send (none for the other kinds)."""
        if content.media is None:
            return None
        if self._uploads is None:
            raise UnprocessableError("media sends need the media bucket", code="media_unavailable")
        try:
            return self._uploads.read_upload(record.tenant_id, content.media.upload_id, content.kind)
        except MediaUploadNotFound as exc:
            raise UnprocessableError(
                "the upload is missing, over its size or not a file of that kind", code="upload_not_found"
            ) from exc

    def _reconcile(self, claims: Claims, target: SendTarget, record: OutboxRecord) -> OutboxRecord | None:
        """The send's fate from the own outbox (an echo stored meanwhile), then from the gateway."""
        echoed = self._store.find_echo(claims, record)
        if echoed is not None:
            return self._sent(claims, record, SentMessage(provider_message_id=echoed))
        try:
            recent = self._gateways.for_instance(target.gateway).recent_messages(target.recipient)
        except GatewayError:
            return None
        claimed = self._store.linked_provider_ids(claims, record)
        since = record.created_at.timestamp() - self._echo_window
        for message in recent:
            if (
                message.from_me
                and same_text(message.text, record.body)
                and (message.timestamp is None or message.timestamp >= since)
                and message.provider_message_id not in claimed
            ):
                return self._sent(claims, record, SentMessage(provider_message_id=message.provider_message_id))
        return None

    def _sent(self, claims: Claims, record: OutboxRecord, sent: SentMessage) -> OutboxRecord:
        done = self._store.complete(claims, record, sent, self._clock.now())
        if done.suggestion_id and done.suggestion_outcome:
            self._suggestions.record(claims, done.suggestion_id, done.suggestion_outcome, done.body)
        if self._on_sent is not None and done.origin == "agent":
            author = claims.get("sub")
            try:
                self._on_sent(done, str(author) if author else None)
            except Exception:  # the message is sent; only its reply clock is late (the echo's job records it)
                logger.warning("reply clock not recorded after a send", exc_info=True)
        return done

    def _target(self, claims: Claims, command: SendCommand) -> SendTarget:
        if command.conversation_id:
            target = self._store.conversation_target(claims, command.conversation_id)
            if target is None:
                raise NotFoundError("no such conversation", code="conversation_not_found")
            return target
        phone = canonical_phone(command.phone or "")
        if phone is None:
            raise BadRequestError("phone is not a valid phone number", code="invalid_phone")
        target = self._store.phone_target(claims, command.instance_id, phone)
        if target is None:
            raise NotFoundError("no WhatsApp instance to send from", code="instance_not_found")
        return target


def _validate(command: SendCommand) -> OutboundContent:
    """The content to send (a text unless the command carries another kind), with a valid key."""
    if command.content is not None and command.content.kind is not OutboundKind.TEXT:
        _validate_key(command.idempotency_key)
        return command.content
    return text_content(_validate_text(command))


def _validate_key(key: object) -> None:
    if not isinstance(key, str) or not 8 <= len(key) <= 200:
        raise BadRequestError("idempotency_key must have 8 to 200 characters", code="invalid_idempotency_key")


def _validate_text(command: SendCommand) -> str:
    text = command.text.strip() if isinstance(command.text, str) else ""
    if not text:
        raise BadRequestError("text is empty", code="empty_text")
    if len(text) > MAX_TEXT_CHARS:
        raise BadRequestError(f"text over {MAX_TEXT_CHARS} characters", code="text_too_long")
    _validate_key(command.idempotency_key)
    return text


def gateway_error(exc: GatewayError) -> ServiceError:
    if isinstance(exc, GatewayNotLoggedError):
        return ServiceUnavailableError("the WhatsApp session is not logged in", code=exc.code)
    if isinstance(exc, GatewayUnavailableError):
        return ServiceUnavailableError("the gateway could not be reached", code=exc.code)
    if isinstance(exc, GatewayUnsupportedError):
        return UnprocessableError(exc.message, code=exc.code)
    if isinstance(exc, GatewayRejectedError):
        return UnprocessableError("the gateway refused the message", code=exc.code)
    if isinstance(exc, GatewayAuthError | GatewayNotConfiguredError):
        return BadGatewayError("the instance's gateway credentials are not valid", code=exc.code)
    return BadGatewayError("the gateway failed", code=exc.code)
