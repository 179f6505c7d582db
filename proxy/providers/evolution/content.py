"""The ``message`` of an Evolution payload (Baileys' protobuf as JSON) -> what Ponte keeps of it.

Wrappers (ephemeral, view-once, document-with-caption, edited) are unwrapped first; then
the first content key found decides the kind. Media become metadata only: the inline
``base64`` / ``jpegThumbnail`` are never read.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from ponte.domain.events import Location, Media, MessageKind, Referral, SharedContact, trusted
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


@dataclass(slots=True)  # not frozen: built once per message on the hot path, never shared
class Content:
    kind: MessageKind
    text: str | None = None
    media: Media | None = None
    quoted_message_id: str | None = None
    target_message_id: str | None = None
    selected_id: str | None = None
    location: Location | None = None
    shared_contacts: tuple[SharedContact, ...] = ()
    ephemeral: bool = False
    view_once: bool = False
    referral: Referral | None = None
    time_ms: int | None = None  # reactions and edits carry their own time in milliseconds


def unwrap(message: dict[str, Any]) -> tuple[dict[str, Any], bool, bool]:
    """The innermost message and whether an ephemeral / view-once wrapper was seen."""
    ephemeral = view_once = False
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


def parse(message: dict[str, Any], outer_context: dict[str, Any], depth: int = 0) -> Content | None:
    """None when the message carries no content at all (a stub or a key-distribution message)."""
    message, ephemeral, view_once = unwrap(message)
    for key, body in message.items():
        if key in _NOT_CONTENT:
            continue
        content = _one(key, body, message, depth)
        if content is None:
            continue
        inner = body if isinstance(body, dict) else {}
        context = obj(inner.get("contextInfo")) or outer_context
        return Content(
            **content,
            quoted_message_id=text(context.get("stanzaId")),
            ephemeral=ephemeral or bool(integer(context.get("expiration"))),
            view_once=view_once or inner.get("viewOnce") is True,
            referral=_referral(context) if context else None,
        )
    return None


def _one(key: str, body: Any, message: dict[str, Any], depth: int) -> dict[str, Any] | None:
    if key == "conversation":
        return {"kind": MessageKind.TEXT, "text": text(body)} if isinstance(body, str) else None
    if not isinstance(body, dict):
        return None
    if key == "extendedTextMessage":
        return {"kind": MessageKind.TEXT, "text": text(body.get("text"))}
    if key in _MEDIA_KINDS:
        return _media(key, body, message)
    if key in ("locationMessage", "liveLocationMessage"):
        return _location(body)
    if key == "contactMessage":
        return _contacts([body], text(body.get("displayName")))
    if key == "contactsArrayMessage":
        cards = (
            [c for c in body.get("contacts") or [] if isinstance(c, dict)]
            if isinstance(body.get("contacts"), list)
            else []
        )
        return _contacts(cards, text(body.get("displayName")))
    if key == "reactionMessage":
        return {
            "kind": MessageKind.REACTION,
            "text": text(body.get("text")),
            "target_message_id": text(obj(body.get("key")).get("id")),
            "time_ms": integer(body.get("senderTimestampMs")),
        }
    if key in _INTERACTIVE:
        return _interactive(key, body)
    if key == "protocolMessage":
        return _protocol(body, depth)
    if key.startswith("pollCreationMessage"):
        return {"kind": MessageKind.UNKNOWN, "text": text(body.get("name"))}
    if key.endswith("Message"):
        return {"kind": MessageKind.UNKNOWN}
    return None


def _media(key: str, body: dict[str, Any], message: dict[str, Any]) -> dict[str, Any]:
    kind = _MEDIA_KINDS[key]
    if kind is MessageKind.AUDIO and body.get("ptt") is True:
        kind = MessageKind.VOICE
    caption = text(body.get("caption"))
    media = trusted(
        Media,
        mimetype=text(body.get("mimetype")),
        size_bytes=integer(body.get("fileLength")),
        caption=caption,
        filename=text(body.get("fileName")) or (text(body.get("title")) if kind is MessageKind.DOCUMENT else None),
        seconds=integer(body.get("seconds")),
        # the S3/MinIO copy when Evolution made one, else the encrypted CDN path the gateway can fetch again
        provider_ref=text(message.get("mediaUrl")) or text(body.get("url")) or text(body.get("directPath")),
        sha256=text(body.get("fileSha256")),
    )
    transcript = text(message.get("speechToText")) if kind in (MessageKind.AUDIO, MessageKind.VOICE) else None
    return {"kind": kind, "text": caption or transcript, "media": media}


def _location(body: dict[str, Any]) -> dict[str, Any]:
    lat, lng = number(body.get("degreesLatitude")), number(body.get("degreesLongitude"))
    location = None
    if lat is not None and lng is not None and -90 <= lat <= 90 and -180 <= lng <= 180:
        location = Location(latitude=lat, longitude=lng, name=text(body.get("name")), address=text(body.get("address")))
    return {
        "kind": MessageKind.LOCATION,
        "text": text(body.get("comment")) or text(body.get("caption")),
        "location": location,
    }


def _contacts(cards: list[dict[str, Any]], display: str | None) -> dict[str, Any]:
    shared = []
    for card in cards[:20]:
        name, phones = vcard_contact(card.get("vcard"))
        shared.append(SharedContact(display_name=text(card.get("displayName")) or name, phones=phones))
    return {"kind": MessageKind.CONTACT, "text": display, "shared_contacts": tuple(shared)}


def _interactive(key: str, body: dict[str, Any]) -> dict[str, Any]:
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
    return {"kind": MessageKind.INTERACTIVE_REPLY, "text": label, "selected_id": selected}


def _protocol(body: dict[str, Any], depth: int) -> dict[str, Any] | None:
    kind = body.get("type")
    target = text(obj(body.get("key")).get("id"))
    if kind in _REVOKE:
        return {"kind": MessageKind.REVOKED, "target_message_id": target}
    if kind in _EDIT:
        edited = obj(body.get("editedMessage"))
        # an edit holds the new message, which is never itself an edit: bounded against hostile nesting
        inner = parse(edited, {}, depth + 1) if edited and depth < 2 else None
        return {
            "kind": MessageKind.EDITED,
            "text": inner.text if inner else None,
            "target_message_id": target,
            "time_ms": integer(body.get("timestampMs")),
        }
    return None  # history sync, ephemeral settings...: not a message


def edited_text(edited: Any) -> str | None:
    """The new text of a ``messages.edited`` payload's ``editedMessage``."""
    inner = parse(obj(edited), {})
    return inner.text if inner else None


def _referral(context: dict[str, Any]) -> Referral | None:
    """Click-to-WhatsApp ads carry an ``externalAdReply`` with the ad's id and URL."""
    ad = obj(context.get("externalAdReply"))
    if not ad and not context.get("ctwaClid"):
        return None
    is_ad = ad.get("sourceType") == "ad" or bool(context.get("ctwaClid")) or context.get("conversionSource") == "FB_Ads"
    if not is_ad:
        return None
    return Referral(source="ctwa_ad", source_id=text(ad.get("sourceId")), source_url=text(ad.get("sourceUrl")))
