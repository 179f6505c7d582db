"""The ``message`` of an Evolution payload (Baileys' protobuf as JSON) -> what Ponte keeps of it.

Wrappers (ephemeral, view-once, document-with-caption, edited) are unwrapped first; then
the first content key found decides the kind. Media become metadata only: the inline
``base64`` / ``jpegThumbnail`` are never read. The content is written straight into the
message event's fields (a ``template`` of ``MessageEvent``): this runs once per message.
"""

from __future__ import annotations

import json
from typing import Any

from ponte.domain.events import Location, Media, MessageEvent, MessageKind, Referral, SharedContact, build, template
from proxy.providers.common import integer, number, obj, text, vcard_contact

_WRAPPERS = {
    "ephemeralMessage": "ephemeral",
    "viewOnceMessage": "view_once",
    "viewOnceMessageV2": "view_once",
    "viewOnceMessageV2Extension": "view_once",
    "documentWithCaptionMessage": None,
    "editedMessage": None,
    "deviceSentMessage": None,
}
_MEDIA_KINDS = {
    "imageMessage": MessageKind.IMAGE,
    "videoMessage": MessageKind.VIDEO,
    "ptvMessage": MessageKind.VIDEO,
    "audioMessage": MessageKind.AUDIO,
    "documentMessage": MessageKind.DOCUMENT,
    "stickerMessage": MessageKind.STICKER,
}
_INTERACTIVE = (
    "listResponseMessage",
    "buttonsResponseMessage",
    "templateButtonReplyMessage",
    "interactiveResponseMessage",
)
# Keys that travel next to the content and are not content themselves.
_NOT_CONTENT = frozenset(
    {"messageContextInfo", "senderKeyDistributionMessage", "base64", "mediaUrl", "speechToText", "contextInfo"}
)
_REVOKE = {0, "REVOKE"}
_EDIT = {14, "MESSAGE_EDIT"}


def unwrap(message: dict[str, Any]) -> tuple[dict[str, Any], bool, bool]:
    """The innermost message and whether an ephemeral / view-once wrapper was seen."""
    ephemeral = view_once = False
    if message.keys().isdisjoint(_WRAPPERS):  # the common case: nothing to unwrap
        return message, ephemeral, view_once
    for _ in range(6):  # wrappers nest at most a few levels; bounded against hostile input
        for key, value in message.items():
            if key in _WRAPPERS:
                inner = obj(value).get("message")
                if isinstance(inner, dict):
                    flag = _WRAPPERS[key]
                    ephemeral = ephemeral or flag == "ephemeral"
                    view_once = view_once or flag == "view_once"
                    message = inner
                    break
        else:
            break
    return message, ephemeral, view_once


Fields = dict[str, Any]  # a MessageEvent template being filled in
_TEXT, _VOICE, _AUDIO, _DOCUMENT = MessageKind.TEXT, MessageKind.VOICE, MessageKind.AUDIO, MessageKind.DOCUMENT


def parse(message: dict[str, Any], outer_context: dict[str, Any], depth: int = 0) -> tuple[Fields, int | None] | None:
    """The message event's content fields, and the content's own time in milliseconds (reactions
    and edits carry one); None when the message carries no content at all (a stub or a
    key-distribution message)."""
    message, ephemeral, view_once = unwrap(message)
    for key, body in message.items():
        if key in _NOT_CONTENT:
            continue
        fields = template(MessageEvent)
        millis = _one(fields, key, body, message, depth)
        if millis is False:
            continue
        inner = body if isinstance(body, dict) else {}
        context = obj(inner.get("contextInfo")) or outer_context
        if context:
            fields["quoted_message_id"] = text(context.get("stanzaId"))
            ephemeral = ephemeral or bool(integer(context.get("expiration")))
            fields["referral"] = _referral(context)
        fields["ephemeral"] = ephemeral
        fields["view_once"] = view_once or inner.get("viewOnce") is True
        return fields, millis if millis is not True else None
    return None


def _one(fields: Fields, key: str, body: Any, message: dict[str, Any], depth: int) -> int | bool | None:
    """Fill the content of one message key: True when done, the content's time in milliseconds
    when it has one, False when ``key`` holds no content."""
    if key == "conversation":
        if not isinstance(body, str):
            return False
        fields["kind"], fields["text"] = _TEXT, body or None
        return True
    if not isinstance(body, dict):
        return False
    if key == "extendedTextMessage":
        fields["kind"], fields["text"] = _TEXT, text(body.get("text"))
    elif key in _MEDIA_KINDS:
        _media(fields, key, body, message)
    elif key in ("locationMessage", "liveLocationMessage"):
        _location(fields, body)
    elif key == "contactMessage":
        _contacts(fields, [body], text(body.get("displayName")))
    elif key == "contactsArrayMessage":
        cards = body.get("contacts")
        cards = [c for c in cards if isinstance(c, dict)] if isinstance(cards, list) else []
        _contacts(fields, cards, text(body.get("displayName")))
    elif key == "reactionMessage":
        fields["kind"], fields["text"] = MessageKind.REACTION, text(body.get("text"))
        fields["target_message_id"] = text(obj(body.get("key")).get("id"))
        return integer(body.get("senderTimestampMs"))
    elif key in _INTERACTIVE:
        _interactive(fields, key, body)
    elif key == "protocolMessage":
        return _protocol(fields, body, depth)
    elif key.startswith("pollCreationMessage"):
        fields["kind"], fields["text"] = MessageKind.UNKNOWN, text(body.get("name"))
    elif key.endswith("Message"):
        fields["kind"] = MessageKind.UNKNOWN
    else:
        return False
    return True


def _media(fields: Fields, key: str, body: dict[str, Any], message: dict[str, Any]) -> None:
    kind = _MEDIA_KINDS[key]
    if kind is _AUDIO and body.get("ptt") is True:
        kind = _VOICE
    caption = text(body.get("caption"))
    fields["kind"] = kind
    fields["media"] = build(
        Media,
        {
            "mimetype": text(body.get("mimetype")),
            "size_bytes": integer(body.get("fileLength")),
            "caption": caption,
            "filename": text(body.get("fileName")) or (text(body.get("title")) if kind is _DOCUMENT else None),
            "seconds": integer(body.get("seconds")),
            # the S3/MinIO copy when Evolution made one, else the encrypted CDN path the gateway can fetch again
            "provider_ref": text(message.get("mediaUrl")) or text(body.get("url")) or text(body.get("directPath")),
            "sha256": text(body.get("fileSha256")),
        },
    )
    transcript = text(message.get("speechToText")) if kind is _AUDIO or kind is _VOICE else None
    fields["text"] = caption or transcript


def _location(fields: Fields, body: dict[str, Any]) -> None:
    lat, lng = number(body.get("degreesLatitude")), number(body.get("degreesLongitude"))
    location = None
    if lat is not None and lng is not None and -90 <= lat <= 90 and -180 <= lng <= 180:
        location = Location(latitude=lat, longitude=lng, name=text(body.get("name")), address=text(body.get("address")))
    fields["kind"], fields["location"] = MessageKind.LOCATION, location
    fields["text"] = text(body.get("comment")) or text(body.get("caption"))


def _contacts(fields: Fields, cards: list[dict[str, Any]], display: str | None) -> None:
    shared = []
    for card in cards[:20]:
        name, phones = vcard_contact(card.get("vcard"))
        shared.append(SharedContact(display_name=text(card.get("displayName")) or name, phones=phones))
    fields["kind"], fields["text"], fields["shared_contacts"] = MessageKind.CONTACT, display, tuple(shared)


def _interactive(fields: Fields, key: str, body: dict[str, Any]) -> None:
    if key == "listResponseMessage":
        label, selected = text(body.get("title")), text(obj(body.get("singleSelectReply")).get("selectedRowId"))
    elif key == "buttonsResponseMessage":
        label, selected = text(body.get("selectedDisplayText")), text(body.get("selectedButtonId"))
    elif key == "templateButtonReplyMessage":
        label, selected = text(body.get("selectedDisplayText")), text(body.get("selectedId"))
    else:  # interactiveResponseMessage: native flow, the choice is JSON inside a string
        label = text(obj(body.get("body")).get("text"))
        selected = None
        params = obj(body.get("nativeFlowResponseMessage")).get("paramsJson")
        if isinstance(params, str) and len(params) < 10_000:
            try:
                selected = text(obj(json.loads(params)).get("id"))
            except ValueError:
                selected = None
    fields["kind"], fields["text"], fields["selected_id"] = MessageKind.INTERACTIVE_REPLY, label, selected


def _protocol(fields: Fields, body: dict[str, Any], depth: int) -> int | bool | None:
    kind = body.get("type")
    if isinstance(kind, bool) or not isinstance(kind, str | int):  # a list is unhashable; false == 0 (revoke)
        return False
    if kind in _REVOKE:
        fields["kind"], fields["target_message_id"] = MessageKind.REVOKED, text(obj(body.get("key")).get("id"))
        return True
    if kind in _EDIT:
        edited = obj(body.get("editedMessage"))
        # an edit holds the new message, which is never itself an edit: bounded against hostile nesting
        inner = parse(edited, {}, depth + 1) if edited and depth < 2 else None
        fields["kind"], fields["text"] = MessageKind.EDITED, inner[0]["text"] if inner else None
        fields["target_message_id"] = text(obj(body.get("key")).get("id"))
        return integer(body.get("timestampMs"))
    return False  # history sync, ephemeral settings...: not a message


def edited_text(edited: Any) -> str | None:
    """The new text of a ``messages.edited`` payload's ``editedMessage``."""
    inner = parse(obj(edited), {})
    return inner[0]["text"] if inner else None


def _referral(context: dict[str, Any]) -> Referral | None:
    """Click-to-WhatsApp ads carry an ``externalAdReply`` with the ad's id and URL."""
    ad = obj(context.get("externalAdReply"))
    if not ad and not context.get("ctwaClid"):
        return None
    is_ad = ad.get("sourceType") == "ad" or bool(context.get("ctwaClid")) or context.get("conversionSource") == "FB_Ads"
    if not is_ad:
        return None
    return Referral(source="ctwa_ad", source_id=text(ad.get("sourceId")), source_url=text(ad.get("sourceUrl")))
