"""Evolution API webhooks -> canonical events: an event-name mapper, then a dispatch table.

Envelope: ``{event, instance, data, destination, date_time, sender, server_url, apikey}``;
``data`` is an object or an array depending on the event. ``date_time`` is the server's
local wall clock with a fake ``Z`` and is never used: times come from the message.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from ponte.domain.events import (
    AckStatus,
    CanonicalEvent,
    ChatKind,
    ConnectionEvent,
    ConnectionState,
    ContactsEvent,
    ContactUpdate,
    Direction,
    Identity,
    MessageEvent,
    MessageKind,
    Provider,
    QrEvent,
    StatusEvent,
    build,
    trusted,
)
from ponte.domain.exceptions import AnomalousPayloadError, UnsupportedEventError
from ponte.domain.outcomes import Normalized
from ponte.domain.timestamps import utc_from_timestamp
from proxy.providers.common import Handler, integer, items, obj, optional_identity, require_identity, run_handler, text
from proxy.providers.evolution import content as contents

PROVIDER = Provider.EVOLUTION

# Every event Evolution emits (enum values of src/api/types/wa.types.ts), as the payload spells them.
KNOWN_EVENTS = (
    "application.startup",
    "qrcode.updated",
    "messages.set",  # ignored: history sync, old messages in bulk, not live traffic
    "messages.upsert",
    "messages.edited",
    "messages.update",
    "messages.delete",
    "send.message",
    "send.message.update",
    "contacts.set",
    "contacts.upsert",
    "contacts.update",
    "presence.update",
    "chats.set",
    "chats.upsert",
    "chats.update",
    "chats.delete",
    "groups.upsert",
    "groups.update",
    "group-participants.update",
    "connection.update",
    "labels.edit",
    "labels.association",
    "call",
    "typebot.start",
    "typebot.change-status",
    "remove.instance",
    "logout.instance",
    "instance.create",
    "instance.delete",
    "status.instance",
    "new.jwt",
)
_SQUASH = re.compile(r"[._\-\s]")
# The mapper: ``MESSAGES_UPSERT`` (config names), ``messages-upsert`` (by-events URL suffix) and
# ``messages.upsert`` (payloads) are one event; ``GROUP_UPDATE`` is emitted as ``groups.update``.
EVENT_NAMES: dict[str, str] = {
    **{_SQUASH.sub("", name): name for name in KNOWN_EVENTS},
    "groupupdate": "groups.update",
    "newtoken": "new.jwt",
}

_KNOWN = frozenset(KNOWN_EVENTS)  # the spelling payloads use: no normalization needed
# enum members read once: a class attribute read on an Enum is slow on the per-message path
_OUTBOUND, _INBOUND, _DIRECT = Direction.OUTBOUND, Direction.INBOUND, ChatKind.DIRECT

_STATUS = {
    "ERROR": AckStatus.ERROR,
    "PENDING": AckStatus.PENDING,
    "SERVER_ACK": AckStatus.SENT,
    "DELIVERY_ACK": AckStatus.DELIVERED,
    "READ": AckStatus.READ,
    "PLAYED": AckStatus.PLAYED,
    0: AckStatus.ERROR,
    1: AckStatus.PENDING,
    2: AckStatus.SENT,
    3: AckStatus.DELIVERED,
    4: AckStatus.READ,
    5: AckStatus.PLAYED,
}
_CONNECTION = {
    "open": ConnectionState.OPEN,
    "connecting": ConnectionState.CONNECTING,
    "close": ConnectionState.CLOSE,
    "refused": ConnectionState.CLOSE,
}
# Baileys DisconnectReason codes carried in statusReason.
_CLOSE_REASONS = {
    401: "logged_out",
    403: "forbidden",
    405: "connection_failure",
    408: "timed_out",
    411: "multidevice_mismatch",
    428: "connection_closed",
    440: "connection_replaced",
    500: "bad_session",
    503: "unavailable_service",
    515: "restart_required",
}


def event_name(payload: dict[str, Any]) -> str:
    name = payload.get("event")
    if not isinstance(name, str) or not name:
        raise AnomalousPayloadError("missing_event", "payload has no event name")
    known = name if name in _KNOWN else EVENT_NAMES.get(_SQUASH.sub("", name.lower()))
    if known is None:
        raise UnsupportedEventError(name[:80], code="unknown_event")
    return known


def normalize(payload: Any, *, instance: str) -> Normalized:
    if not isinstance(payload, dict):
        raise AnomalousPayloadError("not_an_object", "payload must be a JSON object")
    name = event_name(payload)
    return run_handler(name, EVENT_HANDLERS.get(name), payload.get("data"), instance)


# --- messages ---------------------------------------------------------------------------------


def _messages_upsert(data: Any, instance: str) -> list[CanonicalEvent]:
    events: list[CanonicalEvent] = []
    for item in items(data, "messages.upsert"):
        event = _message(item, instance)
        if event is not None:
            events.append(event)
    if not events:
        raise UnsupportedEventError("messages.upsert", code="no_content")
    return events


def _message(data: dict[str, Any], instance: str) -> MessageEvent | None:
    key = data.get("key")
    if not isinstance(key, dict) or not text(key.get("id")):
        raise AnomalousPayloadError("missing_key", "message without key.id")
    from_me = key.get("fromMe") is True
    chat = _chat(key, from_me)
    message = data.get("message")
    if not isinstance(message, dict):
        return None  # a stub (decrypt failure, call log...): nothing to keep
    content = contents.parse(message, obj(data.get("contextInfo")))
    if content is None:
        return None
    fields, millis = content
    fields["provider"], fields["instance"], fields["chat"] = PROVIDER, instance, chat
    fields["provider_message_id"] = key["id"]
    fields["occurred_at"] = _time(data.get("messageTimestamp"), millis)
    if from_me:
        fields["direction"] = _OUTBOUND
        # inbound messages all say DELIVERY_ACK; only the ack of what we sent means something
        status = data.get("status")
        fields["status"] = _STATUS.get(status) if isinstance(status, (str, int)) else None
    else:
        fields["direction"] = _INBOUND
        fields["push_name"] = text(data.get("pushName"))
    if chat.chat_kind is not _DIRECT:
        fields["sender"] = optional_identity(
            key.get("participant"), key.get("participantAlt"), key.get("participantPn"), key.get("participantLid")
        )
    fields["locked_chat"] = data.get("isLocked") is True or obj(data.get("chat")).get("locked") is True
    return build(MessageEvent, fields)


def _chat(key: dict[str, Any], from_me: bool) -> Identity:
    """The chat of a message key; every alternative form is read (Baileys moved them twice).

    ``senderPn`` / ``senderLid`` name the sender, so they describe the chat only on inbound
    direct messages; ``remoteJidAlt`` and ``previousRemoteJid`` always describe the chat.
    """
    get = key.get
    if from_me:
        return require_identity(get("remoteJid"), get("remoteJidAlt"), get("previousRemoteJid"), field="key.remoteJid")
    return require_identity(
        get("remoteJid"),
        get("remoteJidAlt"),
        get("previousRemoteJid"),
        get("senderPn"),
        get("senderLid"),
        field="key.remoteJid",
    )


def _time(seconds: Any, millis: int | None) -> datetime:
    occurred = utc_from_timestamp(seconds)
    if occurred is None and millis is not None:
        occurred = utc_from_timestamp(millis)
    if occurred is None:
        raise AnomalousPayloadError("bad_timestamp", "messageTimestamp missing or invalid")
    return occurred


def _messages_update(data: Any, instance: str) -> list[CanonicalEvent]:
    """Acks: v2 ``{keyId, remoteJid, fromMe, status, messageId(=DB id)}``, v1 ``{id, ..., datetime(ms)}``."""
    events: list[CanonicalEvent] = []
    for item in items(data, "messages.update"):
        message_id = text(item.get("keyId")) or text(item.get("id"))
        if message_id is None:
            raise AnomalousPayloadError("missing_key", "messages.update without keyId")
        raw = item.get("status")
        # Evolution writes DELETED whenever Baileys' update had no status, edits included (E#2010):
        # it is not a deletion. Real deletions arrive as messages.delete.
        if raw == "DELETED" or raw is None:
            continue
        status = _STATUS.get(raw) if isinstance(raw, str | int) else None
        if status is None:
            raise AnomalousPayloadError("unknown_status", "messages.update status is not an Evolution status")
        events.append(
            trusted(
                StatusEvent,
                provider=PROVIDER,
                instance=instance,
                provider_message_id=message_id,
                chat=optional_identity(item.get("remoteJid"), item.get("remoteJidAlt")),
                from_me=item["fromMe"] if isinstance(item.get("fromMe"), bool) else None,
                status=status,
                occurred_at=utc_from_timestamp(item.get("datetime")),
            )
        )
    if not events:
        raise UnsupportedEventError("messages.update", code="no_status")
    return events


def _messages_delete(data: Any, instance: str) -> list[CanonicalEvent]:
    """A revoke: the raw key (protocol delete) or the API-delete record wrapping it."""
    events: list[CanonicalEvent] = []
    for item in items(data, "messages.delete"):
        key = item["key"] if isinstance(item.get("key"), dict) else item
        message_id = text(key.get("id"))
        if message_id is None:
            raise AnomalousPayloadError("missing_key", "messages.delete without key.id")
        events.append(
            trusted(
                StatusEvent,
                provider=PROVIDER,
                instance=instance,
                provider_message_id=message_id,
                chat=optional_identity(key.get("remoteJid"), key.get("remoteJidAlt")),
                from_me=key["fromMe"] if isinstance(key.get("fromMe"), bool) else None,
                status=AckStatus.DELETED,
            )
        )
    return events


def _messages_edited(data: Any, instance: str) -> list[CanonicalEvent]:
    """``{key, type: MESSAGE_EDIT, editedMessage, timestampMs}``, or an upsert-shaped edit.

    Evolution labels edits ``fromMe`` with the instance's own number as ``remoteJid`` even when
    the contact edited (E#1367): the store applies an edit by the target id only, never by chat.
    """
    events: list[CanonicalEvent] = []
    for item in items(data, "messages.edited"):
        if isinstance(item.get("message"), dict):
            events.extend(_messages_upsert(item, instance))
            continue
        key = obj(item.get("key"))
        target = text(key.get("id"))
        if target is None:
            raise AnomalousPayloadError("missing_key", "messages.edited without key.id")
        millis = integer(item.get("timestampMs"))
        from_me = key.get("fromMe") is True
        events.append(
            trusted(
                MessageEvent,
                provider=PROVIDER,
                instance=instance,
                provider_message_id=f"{target}#edit{millis or ''}",
                direction=Direction.OUTBOUND if from_me else Direction.INBOUND,
                chat=_chat(key, from_me),
                kind=MessageKind.EDITED,
                text=contents.edited_text(item.get("editedMessage")),
                target_message_id=target,
                occurred_at=_time(item.get("messageTimestamp"), millis),
            )
        )
    return events


# --- session ----------------------------------------------------------------------------------


def _connection_update(data: Any, instance: str) -> list[CanonicalEvent]:
    data = obj(data)
    raw = data.get("state")
    if not isinstance(raw, str) or not raw:
        raise AnomalousPayloadError("missing_state", "connection.update without state")
    state = _CONNECTION.get(raw, ConnectionState.OTHER)
    code = integer(data.get("statusReason"))
    reason = None
    if state is ConnectionState.CLOSE:
        reason = "refused" if raw == "refused" else _CLOSE_REASONS.get(code or 0, "closed")
    return [
        trusted(
            ConnectionEvent,
            provider=PROVIDER,
            instance=instance,
            state=state,
            reason=reason,
            status_code=code,
            provider_state=raw[:40],
        )
    ]


def _qrcode_updated(data: Any, instance: str) -> list[CanonicalEvent]:
    data = obj(data)
    qr = obj(data.get("qrcode"))
    if not qr:
        if text(data.get("message")) is not None:  # the QR limit was reached: the session stops
            return [
                trusted(
                    ConnectionEvent,
                    provider=PROVIDER,
                    instance=instance,
                    state=ConnectionState.CLOSE,
                    reason="qr_limit_reached",
                    status_code=integer(data.get("statusCode")),
                    provider_state="qrcode_limit",
                )
            ]
        raise AnomalousPayloadError("missing_qrcode", "qrcode.updated without data.qrcode")
    code, pairing = text(qr.get("code")), text(qr.get("pairingCode"))
    if code is None and pairing is None:
        raise AnomalousPayloadError("missing_qrcode", "qrcode.updated without code or pairingCode")
    image = None if code else text(qr.get("base64"))
    return [trusted(QrEvent, provider=PROVIDER, instance=instance, qr_code=code, qr_image=image, pairing_code=pairing)]


# --- contacts ---------------------------------------------------------------------------------


def _contacts(data: Any, instance: str) -> list[CanonicalEvent]:
    """v2 ``{remoteJid, pushName, profilePicUrl}``, v1 ``{id, pushName?, profilePictureUrl}``; one or many."""
    updates: list[ContactUpdate] = []
    for item in items(data, "contacts"):
        identity = optional_identity(
            item.get("remoteJid") or item.get("id"),
            item.get("remoteJidAlt"),
            item.get("lid"),
            item.get("phoneNumber"),
            item.get("jid"),
        )
        if identity is None:
            continue  # masked or redacted ids: the others in the batch are still good
        updates.append(
            trusted(
                ContactUpdate,
                identity=identity,
                push_name=text(item.get("pushName")),
                picture_url=text(item.get("profilePicUrl")) or text(item.get("profilePictureUrl")),
            )
        )
    if not updates:
        raise AnomalousPayloadError("invalid_jid", "no contact with a valid WhatsApp JID")
    return [trusted(ContactsEvent, provider=PROVIDER, instance=instance, contacts=tuple(updates))]


EVENT_HANDLERS: dict[str, Handler] = {
    "messages.upsert": _messages_upsert,
    "send.message": _messages_upsert,  # API-sent: same key.id and chat as its fromMe echo, so one message
    "messages.update": _messages_update,
    "send.message.update": _messages_update,
    "messages.delete": _messages_delete,
    "messages.edited": _messages_edited,
    "connection.update": _connection_update,
    "qrcode.updated": _qrcode_updated,
    "contacts.upsert": _contacts,
    "contacts.update": _contacts,
}
# Known events without a handler are acknowledged and recorded as ignored.
IGNORED_EVENTS = frozenset(KNOWN_EVENTS) - EVENT_HANDLERS.keys()
assert EVENT_HANDLERS.keys() <= set(KNOWN_EVENTS), "every handled event is a known one"
