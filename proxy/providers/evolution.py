"""Evolution API v2 (and the v1.8 shapes still seen) -> canonical events."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ponte.domain.events import Direction, MessageEvent, MessageKind, Provider
from ponte.domain.exceptions import AnomalousPayloadError, UnsupportedEventError
from ponte.domain.identity import identity_from_jid
from ponte.domain.outcomes import Normalized, Outcome
from ponte.domain.timestamps import utc_from_timestamp

IGNORED_EVENTS = frozenset(
    {
        "application.startup",
        "presence.update",
        "chats.set",
        "chats.upsert",
        "chats.update",
        "chats.delete",
        "messages.set",
        "labels.edit",
        "labels.association",
        "call",
        "typebot.start",
        "typebot.change-status",
        "groups.upsert",
        "groups.update",
        "group-participants.update",
        "remove.instance",
        "logout.instance",
        "instance.create",
        "instance.delete",
        "status.instance",
        "new.jwt",
    }
)


def _message(data: dict[str, Any], instance: str) -> MessageEvent:
    key = data.get("key")
    if not isinstance(key, dict) or not isinstance(key.get("remoteJid"), str) or not key.get("id"):
        raise AnomalousPayloadError("missing_key", "messages.upsert without key.remoteJid / key.id")
    message = data.get("message") or {}
    text = message.get("conversation") or (message.get("extendedTextMessage") or {}).get("text")
    occurred = utc_from_timestamp(data.get("messageTimestamp"))
    if occurred is None:
        raise AnomalousPayloadError("bad_timestamp", "messageTimestamp missing or invalid")
    from_me = bool(key.get("fromMe"))
    return MessageEvent(
        provider=Provider.EVOLUTION,
        instance=instance,
        provider_message_id=str(key["id"]),
        direction=Direction.OUTBOUND if from_me else Direction.INBOUND,
        chat=identity_from_jid(key["remoteJid"], phone_hint=key.get("remoteJidAlt") or key.get("senderPn")),
        kind=MessageKind.TEXT if text is not None else MessageKind.UNKNOWN,
        text=text,
        occurred_at=occurred,
        push_name=None if from_me else data.get("pushName"),
    )


def _messages_upsert(data: Any, instance: str) -> Normalized:
    if not isinstance(data, dict):
        raise AnomalousPayloadError("bad_data", "data must be an object")
    return Normalized(outcome=Outcome.ACCEPTED, events=(_message(data, instance),))


EVENT_HANDLERS: dict[str, Callable[[Any, str], Normalized]] = {
    "messages.upsert": _messages_upsert,
    "send.message": _messages_upsert,
}


def event_name(payload: dict[str, Any]) -> str:
    name = payload.get("event")
    if not isinstance(name, str) or not name:
        raise AnomalousPayloadError("missing_event", "payload has no event name")
    # byEvents webhooks and some builds use upper snake case: MESSAGES_UPSERT
    return name.lower().replace("_", ".")


def normalize(payload: Any, *, instance: str) -> Normalized:
    if not isinstance(payload, dict):
        raise AnomalousPayloadError("not_an_object", "payload must be a JSON object")
    name = event_name(payload)
    if name in IGNORED_EVENTS:
        raise UnsupportedEventError(name)
    handler = EVENT_HANDLERS.get(name)
    if handler is None:
        raise UnsupportedEventError(name, code="unknown_event")
    result = handler(payload.get("data"), instance)
    return result.model_copy(update={"event_name": name})
