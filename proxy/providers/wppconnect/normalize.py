"""WPPConnect Server 2.x webhooks -> canonical events: an event-name mapper, then a dispatch table.

Envelope: ``Object.assign({event, session}, data)`` -- the event's fields are top level.
Serialized message ids are ``<fromMe>_<chat>_<id>[_<participant>]``; Ponte keys messages on
the WhatsApp ``<id>`` part (the same id acks and reactions carry). For media the server puts
the file's base64 in ``body``: it is never read, the caption is.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from ponte.domain.events import (
    AckStatus,
    CanonicalEvent,
    ChatKind,
    ConnectionEvent,
    ConnectionState,
    Direction,
    Identity,
    Location,
    Media,
    MessageEvent,
    MessageKind,
    Provider,
    QrEvent,
    SharedContact,
    StatusEvent,
    build,
    template,
    trusted,
)
from ponte.domain.exceptions import AnomalousPayloadError, UnsupportedEventError
from ponte.domain.outcomes import Normalized
from ponte.domain.timestamps import utc_from_timestamp
from proxy.providers.common import (
    Handler,
    integer,
    number,
    obj,
    optional_identity,
    require_identity,
    run_handler,
    serialized_id,
    text,
    vcard_contact,
)

PROVIDER = Provider.WPPCONNECT

# Events of src/util/createSessionUtil.ts, as the payload spells them.
KNOWN_EVENTS = (
    "onmessage",
    "onselfmessage",
    "unreadmessages",
    "onack",
    "onpresencechanged",
    "onreactionmessage",
    "onrevokedmessage",
    "onpollresponse",
    "onupdatelabel",
    "onparticipantschanged",
    "incomingcall",
    "location",  # ignored: live-location ticks after a location message
    "status-find",
    "qrcode",
    "phonecode",
    "session-logged",
)
EVENT_NAMES: dict[str, str] = {name.lower(): name for name in KNOWN_EVENTS}


_MEDIA_KINDS = {
    "image": MessageKind.IMAGE,
    "video": MessageKind.VIDEO,
    "audio": MessageKind.AUDIO,
    "ptt": MessageKind.VOICE,
    "document": MessageKind.DOCUMENT,
    "sticker": MessageKind.STICKER,
}
# enum members read once: a class attribute read on an Enum is slow on the per-message path
_OUTBOUND, _INBOUND, _DIRECT, _TEXT = Direction.OUTBOUND, Direction.INBOUND, ChatKind.DIRECT, MessageKind.TEXT
_INTERACTIVE = {"list_response", "buttons_response", "template_button_reply", "interactive_response"}
_ACK = {-1: AckStatus.ERROR, 0: AckStatus.PENDING, 1: AckStatus.SENT, 2: AckStatus.DELIVERED, 3: AckStatus.READ}
# status-find values (StatusFind enum); "desconnectedMobile" is the old spelling.
_SESSION = {
    "isLogged": ConnectionState.OPEN,
    "inChat": ConnectionState.OPEN,
    "qrReadSuccess": ConnectionState.QR_READ_SUCCESS,
    "notLogged": ConnectionState.NOT_LOGGED,
    "disconnectedMobile": ConnectionState.DISCONNECTED_MOBILE,
    "desconnectedMobile": ConnectionState.DISCONNECTED_MOBILE,
    "phoneNotConnected": ConnectionState.CONNECTING,
    "browserClose": ConnectionState.CLOSE,
    "serverClose": ConnectionState.CLOSE,
    "autocloseCalled": ConnectionState.CLOSE,
    "qrReadFail": ConnectionState.CLOSE,
    "qrReadError": ConnectionState.CLOSE,
}


def event_name(payload: dict[str, Any]) -> str:
    name = payload.get("event")
    if not isinstance(name, str) or not name:
        raise AnomalousPayloadError("missing_event", "payload has no event name")
    known = EVENT_NAMES.get(name.strip().lower())
    if known is None:
        raise UnsupportedEventError(name[:80], code="unknown_event")
    return known


def normalize(payload: Any, *, instance: str) -> Normalized:
    if not isinstance(payload, dict):
        raise AnomalousPayloadError("not_an_object", "payload must be a JSON object")
    name = event_name(payload)
    return run_handler(name, EVENT_HANDLERS.get(name), payload, instance)


# --- ids --------------------------------------------------------------------------------------


def split_serialized(serialized: str) -> tuple[bool | None, str | None, str, str | None]:
    """``true_5511...@c.us_3EB0..._5511...@c.us`` -> (fromMe, chat, id, participant)."""
    parts = serialized.split("_")
    if len(parts) >= 3 and parts[0] in ("true", "false") and "@" in parts[1]:
        participant = "_".join(parts[3:]) or None
        return parts[0] == "true", parts[1], parts[2], participant
    return None, None, serialized, None


def _message_ref(value: Any, field: str) -> tuple[bool | None, str | None, str]:
    """fromMe, chat and WhatsApp id of a string or object id."""
    if isinstance(value, dict):
        message_id = text(value.get("id"))
        from_me = value.get("fromMe") if isinstance(value.get("fromMe"), bool) else None
        remote = value.get("remote")
        remote = serialized_id(remote) if isinstance(remote, dict) else text(remote)
        if message_id is not None:
            return from_me, remote, message_id
    serialized = serialized_id(value)
    if serialized is None:
        raise AnomalousPayloadError("missing_id", f"{field} is missing")
    from_me, chat, message_id, _ = split_serialized(serialized)
    return from_me, chat, message_id


# --- messages ---------------------------------------------------------------------------------


def _message(payload: dict[str, Any], instance: str) -> list[CanonicalEvent]:
    from_me_in_id, chat_in_id, message_id = _message_ref(payload.get("id"), "id")
    from_me = payload["fromMe"] if isinstance(payload.get("fromMe"), bool) else bool(from_me_in_id)
    chat = _chat(payload, from_me, chat_in_id)
    fields = template(MessageEvent)
    _content(fields, text(payload.get("type")) or "chat", payload)
    fields["provider"], fields["instance"], fields["chat"] = PROVIDER, instance, chat
    fields["provider_message_id"] = message_id
    fields["occurred_at"] = _time(payload.get("t"), payload.get("timestamp"))
    sender = obj(payload.get("sender"))
    if from_me:
        fields["direction"] = _OUTBOUND
        ack = payload.get("ack")
        fields["status"] = _ACK.get(ack) if isinstance(ack, int) else None
    else:
        fields["direction"] = _INBOUND
        fields["push_name"] = text(payload.get("notifyName")) or text(sender.get("pushname"))
    if chat.chat_kind is not _DIRECT:
        author = payload.get("author") or sender.get("id")
        fields["sender"] = optional_identity(serialized_id(author), *_phone_hints(sender))
    fields["quoted_message_id"] = _quoted(payload)
    fields["ephemeral"] = bool(integer(payload.get("ephemeralDuration")))
    fields["view_once"] = payload.get("isViewOnce") is True
    fields["locked_chat"] = payload.get("isLocked") is True or obj(payload.get("chat")).get("isLocked") is True
    return [build(MessageEvent, fields)]


def _chat(payload: dict[str, Any], from_me: bool, chat_in_id: str | None) -> Identity:
    jid = serialized_id(payload.get("chatId")) or chat_in_id
    if jid is None:
        jid = serialized_id(payload.get("to") if from_me else payload.get("from"))
    sender = obj(payload.get("sender"))
    # an inbound @lid chat: the sender object may carry the phone (wa-js contact ``phoneNumber``)
    hints = _phone_hints(sender) if not from_me and not payload.get("isGroupMsg") else ()
    return require_identity(jid, *hints, field="chatId")


def _phone_hints(sender: dict[str, Any]) -> tuple[str | None, ...]:
    return (serialized_id(sender.get("id")), serialized_id(sender.get("phoneNumber")))


def _time(seconds: Any, fallback: Any) -> datetime:
    occurred = utc_from_timestamp(seconds) or utc_from_timestamp(fallback)
    if occurred is None:
        raise AnomalousPayloadError("bad_timestamp", "t / timestamp missing or invalid")
    return occurred


def _quoted(payload: dict[str, Any]) -> str | None:
    quoted = serialized_id(payload.get("quotedMsgId")) or serialized_id(obj(payload.get("quotedMsg")).get("id"))
    return split_serialized(quoted)[2] if quoted else None


def _content(fields: dict[str, Any], kind_name: str, payload: dict[str, Any]) -> None:
    """Fill the content fields of the message event (``fields``, a ``MessageEvent`` template)."""
    if kind_name == "chat":
        fields["kind"], fields["text"] = _TEXT, text(payload.get("body")) or text(payload.get("content"))
    elif kind_name in _MEDIA_KINDS:
        caption = text(payload.get("caption"))
        fields["kind"], fields["text"] = _MEDIA_KINDS[kind_name], caption
        fields["media"] = build(
            Media,
            {
                "mimetype": text(payload.get("mimetype")),
                "size_bytes": integer(payload.get("size")),
                "caption": caption,
                "filename": text(payload.get("filename")),
                "seconds": integer(payload.get("duration")),
                # the S3 copy when uploadS3 is on, else the message id get-media-by-message accepts
                "provider_ref": text(payload.get("fileUrl")) or serialized_id(payload.get("id")),
                "sha256": text(payload.get("filehash")),
            },
        )
    elif kind_name == "location":
        lat, lng = number(payload.get("lat")), number(payload.get("lng"))
        if lat is not None and lng is not None and -90 <= lat <= 90 and -180 <= lng <= 180:
            fields["location"] = Location(latitude=lat, longitude=lng, name=text(payload.get("loc")))
        fields["kind"], fields["text"] = MessageKind.LOCATION, text(payload.get("comment"))
    elif kind_name in ("vcard", "multi_vcard"):
        cards = payload.get("vcardList") if kind_name == "multi_vcard" else [{"vcard": payload.get("body")}]
        shared = []
        for card in cards[:20] if isinstance(cards, list) else []:
            name, phones = vcard_contact(obj(card).get("vcard"))
            shared.append(SharedContact(display_name=text(obj(card).get("displayName")) or name, phones=phones))
        fields["kind"], fields["shared_contacts"] = MessageKind.CONTACT, tuple(shared)
        fields["text"] = text(payload.get("vcardFormattedName")) or (shared[0].display_name if shared else None)
    elif kind_name in _INTERACTIVE:
        reply = obj(payload.get("listResponse"))
        fields["kind"], fields["text"] = MessageKind.INTERACTIVE_REPLY, text(payload.get("body"))
        fields["selected_id"] = (
            text(obj(reply.get("singleSelectReply")).get("selectedRowId"))
            or text(payload.get("selectedButtonId"))
            or text(payload.get("selectedId"))
        )
    elif kind_name == "revoked":
        fields["kind"], fields["target_message_id"] = MessageKind.REVOKED, _message_ref(payload.get("id"), "id")[2]
    elif kind_name in ("e2e_notification", "notification_template", "gp2", "call_log", "protocol", "ciphertext"):
        raise UnsupportedEventError(kind_name, code="no_content")
    else:
        fields["kind"] = MessageKind.UNKNOWN


def _ack(payload: dict[str, Any], instance: str) -> list[CanonicalEvent]:
    from_me, remote, message_id = _message_ref(payload.get("id"), "id")
    ack = payload.get("ack")
    status = _ACK.get(ack) if isinstance(ack, int) else None
    if status is None and isinstance(ack, int):
        status = AckStatus.PLAYED if ack >= 4 else AckStatus.ERROR  # 4 PLAYED, 5 PEER; -7..-2 errors
    if status is None:
        raise AnomalousPayloadError("unknown_status", "onack without a numeric ack")
    chat = optional_identity(remote or serialized_id(payload.get("to") if from_me else payload.get("from")))
    return [
        trusted(
            StatusEvent,
            provider=PROVIDER,
            instance=instance,
            provider_message_id=message_id,
            chat=chat,
            from_me=from_me,
            status=status,
            occurred_at=utc_from_timestamp(payload.get("t")),
        )
    ]


def _reaction(payload: dict[str, Any], instance: str) -> list[CanonicalEvent]:
    """``{id, msgId, reactionText, timestamp(ms)}``: ``id`` is the reaction, ``msgId`` the message reacted to."""
    from_me, remote, reaction_id = _message_ref(payload.get("id"), "id")
    _, target_remote, target = _message_ref(payload.get("msgId"), "msgId")
    chat = require_identity(remote or target_remote, field="id.remote")
    return [
        trusted(
            MessageEvent,
            provider=PROVIDER,
            instance=instance,
            provider_message_id=reaction_id,
            direction=Direction.OUTBOUND if from_me else Direction.INBOUND,
            chat=chat,
            kind=MessageKind.REACTION,
            text=text(payload.get("reactionText")),  # empty: the reaction was removed
            target_message_id=target,
            occurred_at=_time(payload.get("timestamp"), payload.get("t")),
        )
    ]


def _revoked(payload: dict[str, Any], instance: str) -> list[CanonicalEvent]:
    """``{author?, from, to, id, refId}``: ``refId`` is the message deleted for everyone."""
    from_me, chat_in_ref, target = _message_ref(payload.get("refId") or payload.get("id"), "refId")
    chat = optional_identity(chat_in_ref or serialized_id(payload.get("from")))
    return [
        trusted(
            StatusEvent,
            provider=PROVIDER,
            instance=instance,
            provider_message_id=target,
            chat=chat,
            from_me=from_me,
            status=AckStatus.DELETED,
            occurred_at=utc_from_timestamp(payload.get("t")),
        )
    ]


# --- session ----------------------------------------------------------------------------------


def _status_find(payload: dict[str, Any], instance: str) -> list[CanonicalEvent]:
    raw = payload.get("status")
    if not isinstance(raw, str) or not raw:
        raise AnomalousPayloadError("missing_state", "status-find without status")
    state = _SESSION.get(raw, ConnectionState.OTHER)
    reason = raw if state is ConnectionState.CLOSE else None
    return [
        trusted(
            ConnectionEvent, provider=PROVIDER, instance=instance, state=state, reason=reason, provider_state=raw[:40]
        )
    ]


def _qrcode(payload: dict[str, Any], instance: str) -> list[CanonicalEvent]:
    code, image = text(payload.get("urlcode")), text(payload.get("qrcode"))
    if code is None and image is None:
        raise AnomalousPayloadError("missing_qrcode", "qrcode without urlcode or qrcode")
    return [trusted(QrEvent, provider=PROVIDER, instance=instance, qr_code=code, qr_image=None if code else image)]


def _phone_code(payload: dict[str, Any], instance: str) -> list[CanonicalEvent]:
    code = text(payload.get("phoneCode"))
    if code is None:
        raise AnomalousPayloadError("missing_qrcode", "phoneCode without a code")
    return [trusted(QrEvent, provider=PROVIDER, instance=instance, pairing_code=code)]


EVENT_HANDLERS: dict[str, Handler] = {
    "onmessage": _message,
    "onselfmessage": _message,
    "unreadmessages": _message,
    "onack": _ack,
    "onreactionmessage": _reaction,
    "onrevokedmessage": _revoked,
    "status-find": _status_find,
    "qrcode": _qrcode,
    "phonecode": _phone_code,
}
# Known events without a handler are acknowledged and recorded as ignored.
IGNORED_EVENTS = frozenset(KNOWN_EVENTS) - EVENT_HANDLERS.keys()
assert EVENT_HANDLERS.keys() <= set(KNOWN_EVENTS), "every handled event is a known one"
