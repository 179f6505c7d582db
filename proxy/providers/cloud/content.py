"""One Cloud API ``messages[]`` item's content -> the content fields of a ``MessageEvent``.

A dispatch table by ``type``; each reader fills a ``template(MessageEvent)`` in place. Media
become metadata only: the media id is the provider reference the media fetcher resolves
later (Graph API ``GET /{media-id}`` with the instance's token), never the file itself.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from ponte.domain.events import Location, Media, MessageKind, Referral, SharedContact, build
from ponte.domain.identity import canonical_phone
from proxy.providers.common import number, obj, text

Fields = dict[str, Any]
Reader = Callable[[Fields, dict[str, Any]], None]

_MEDIA_KINDS = {
    "image": MessageKind.IMAGE,
    "video": MessageKind.VIDEO,
    "audio": MessageKind.AUDIO,
    "document": MessageKind.DOCUMENT,
    "sticker": MessageKind.STICKER,
}
# Types that carry nothing to keep: the user opened the chat for the first time.
NO_CONTENT_TYPES = frozenset({"request_welcome"})


def _text(fields: Fields, message: dict[str, Any]) -> None:
    fields["kind"], fields["text"] = MessageKind.TEXT, text(obj(message.get("text")).get("body"))


def media(kind_name: str, body: dict[str, Any]) -> tuple[MessageKind, Media]:
    kind = _MEDIA_KINDS[kind_name]
    if kind is MessageKind.AUDIO and body.get("voice") is True:
        kind = MessageKind.VOICE
    return kind, build(
        Media,
        {
            "mimetype": text(body.get("mime_type")),
            "caption": text(body.get("caption")),
            "filename": text(body.get("filename")),
            "provider_ref": text(body.get("id")),  # the media id (a URL expires in minutes)
            "sha256": text(body.get("sha256")),
        },
    )


def _media_reader(kind_name: str) -> Reader:
    def read(fields: Fields, message: dict[str, Any]) -> None:
        kind, found = media(kind_name, obj(message.get(kind_name)))
        fields["kind"], fields["media"], fields["text"] = kind, found, found.caption

    return read


def _location(fields: Fields, message: dict[str, Any]) -> None:
    body = obj(message.get("location"))
    lat, lng = number(body.get("latitude")), number(body.get("longitude"))
    location = None
    if lat is not None and lng is not None and -90 <= lat <= 90 and -180 <= lng <= 180:
        location = Location(latitude=lat, longitude=lng, name=text(body.get("name")), address=text(body.get("address")))
    fields["kind"], fields["location"] = MessageKind.LOCATION, location


def _contacts(fields: Fields, message: dict[str, Any]) -> None:
    cards = message.get("contacts")
    shared = []
    for raw_card in (cards if isinstance(cards, list) else [])[:20]:
        card = obj(raw_card)
        phones: list[str] = []
        raw_phones = card.get("phones")
        for raw_phone in (raw_phones if isinstance(raw_phones, list) else [])[:10]:
            phone = obj(raw_phone)
            wa_id, written = text(phone.get("wa_id")), text(phone.get("phone"))
            value = (canonical_phone(f"{wa_id}@s.whatsapp.net") if wa_id and wa_id.isdigit() else None) or (
                canonical_phone(written) if written else None
            )
            value = value or (written[:40] if written else None)
            if value and value not in phones:
                phones.append(value)
        name = obj(card.get("name"))
        display = text(name.get("formatted_name")) or text(name.get("first_name"))
        shared.append(SharedContact(display_name=display, phones=tuple(phones)))
    fields["kind"], fields["shared_contacts"] = MessageKind.CONTACT, tuple(shared)
    fields["text"] = shared[0].display_name if len(shared) == 1 else None


def _reaction(fields: Fields, message: dict[str, Any]) -> None:
    body = obj(message.get("reaction"))
    # an empty (or absent) emoji removes an earlier reaction
    fields["kind"], fields["text"] = MessageKind.REACTION, text(body.get("emoji"))
    fields["target_message_id"] = text(body.get("message_id"))


def _interactive(fields: Fields, message: dict[str, Any]) -> None:
    body = obj(message.get("interactive"))
    kind = body.get("type")
    if kind in ("button_reply", "list_reply"):
        reply = obj(body.get(kind))
        fields["kind"], fields["text"] = MessageKind.INTERACTIVE_REPLY, text(reply.get("title"))
        fields["selected_id"] = text(reply.get("id"))
    elif kind == "nfm_reply":  # a WhatsApp Flow's answer: the form's JSON stays at Meta's side of the model
        reply = obj(body.get("nfm_reply"))
        fields["kind"], fields["text"] = MessageKind.INTERACTIVE_REPLY, text(reply.get("body"))
        fields["selected_id"] = _flow_token(reply.get("response_json"))
    else:  # Meta sends an interactive reply it could not read without its body
        fields["kind"] = MessageKind.UNKNOWN


def _flow_token(response: Any) -> str | None:
    if not isinstance(response, str) or len(response) > 10_000:
        return None
    try:
        return text(obj(json.loads(response)).get("flow_token"))
    except ValueError:
        return None


def _button(fields: Fields, message: dict[str, Any]) -> None:
    """A template's quick-reply button."""
    body = obj(message.get("button"))
    fields["kind"], fields["text"] = MessageKind.INTERACTIVE_REPLY, text(body.get("text"))
    fields["selected_id"] = text(body.get("payload"))


def _order(fields: Fields, message: dict[str, Any]) -> None:
    fields["kind"], fields["text"] = MessageKind.UNKNOWN, text(obj(message.get("order")).get("text"))


def _system(fields: Fields, message: dict[str, Any]) -> None:
    """Number or BSUID changes: what WhatsApp shows in the chat (the link is a contacts event)."""
    fields["kind"], fields["text"] = MessageKind.UNKNOWN, text(obj(message.get("system")).get("body"))


def _unknown(fields: Fields, message: dict[str, Any]) -> None:
    """``unsupported`` (polls, edits of old apps...: error 131051) and types added after this reader."""
    fields["kind"] = MessageKind.UNKNOWN


def _revoke(fields: Fields, message: dict[str, Any]) -> None:
    fields["kind"] = MessageKind.REVOKED
    fields["target_message_id"] = text(obj(message.get("revoke")).get("original_message_id"))


def _edit(fields: Fields, message: dict[str, Any]) -> None:
    body = obj(message.get("edit"))
    inner = obj(body.get("message"))
    kind = inner.get("type")
    new_text = text(obj(inner.get("text")).get("body"))
    if new_text is None and isinstance(kind, str) and kind in _MEDIA_KINDS:
        new_text = text(obj(inner.get(kind)).get("caption"))
    fields["kind"], fields["text"] = MessageKind.EDITED, new_text
    fields["target_message_id"] = text(body.get("original_message_id"))


READERS: dict[str, Reader] = {
    "text": _text,
    **{name: _media_reader(name) for name in _MEDIA_KINDS},
    "location": _location,
    "contacts": _contacts,
    "reaction": _reaction,
    "interactive": _interactive,
    "button": _button,
    "order": _order,
    "system": _system,
    "unsupported": _unknown,
    "revoke": _revoke,
    "edit": _edit,
}


def referral(message: dict[str, Any]) -> Referral | None:
    """Click-to-WhatsApp ads and posts carry ``referral`` with the ad's id and URL."""
    ref = obj(message.get("referral"))
    if not ref:
        return None
    return Referral(source="ctwa_ad", source_id=text(ref.get("source_id")), source_url=text(ref.get("source_url")))
