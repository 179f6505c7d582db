"""Canonical events: what every gateway payload becomes.

Frozen pydantic models with no framework imports. Provider modules under
``proxy/providers`` build them; the services and the queues carry them.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field


class Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Provider(StrEnum):
    WPPCONNECT = "wppconnect"
    EVOLUTION = "evolution"
    CLOUD = "cloud"  # Meta's official WhatsApp Cloud API


class Direction(StrEnum):
    INBOUND = "in"
    OUTBOUND = "out"


class ChatKind(StrEnum):
    DIRECT = "direct"
    GROUP = "group"
    BROADCAST = "broadcast"
    STATUS = "status"
    NEWSLETTER = "newsletter"


class MessageKind(StrEnum):
    TEXT = "text"
    IMAGE = "image"
    AUDIO = "audio"
    VOICE = "voice"
    VIDEO = "video"
    DOCUMENT = "document"
    STICKER = "sticker"
    LOCATION = "location"
    CONTACT = "contact"
    REACTION = "reaction"
    INTERACTIVE_REPLY = "interactive_reply"
    EDITED = "edited"
    REVOKED = "revoked"
    UNKNOWN = "unknown"


class Identity(Frozen):
    """One person (or chat) as the gateway addressed it.

    ``key`` is the canonical identity used for storage and dedupe: the E.164 phone
    when known, otherwise the bare JID (``<lid>@lid``, ``<id>@g.us``...).
    """

    key: str
    phone_e164: str | None = None
    jid: str | None = None
    lid: str | None = None
    aliases: tuple[str, ...] = ()
    chat_kind: ChatKind = ChatKind.DIRECT


class Media(Frozen):
    """Media as metadata only: the file (or its base64) never travels in a canonical event."""

    mimetype: str | None = None
    size_bytes: int | None = None
    caption: str | None = None
    filename: str | None = None
    seconds: int | None = None
    provider_ref: str | None = None  # what the gateway needs to fetch the file again (URL, media id)
    sha256: str | None = None


class Location(Frozen):
    latitude: float
    longitude: float
    name: str | None = None
    address: str | None = None


class SharedContact(Frozen):
    """A contact card (vCard) sent in a message: the name and the phones it lists."""

    display_name: str | None = None
    phones: tuple[str, ...] = ()


class Referral(Frozen):
    """Where a conversation came from (click-to-WhatsApp ad, search entry point...)."""

    source: Literal["organic", "ctwa_ad", "search", "deep_link"] = "organic"
    source_id: str | None = None
    source_url: str | None = None


class AckStatus(StrEnum):
    ERROR = "error"
    PENDING = "pending"
    SENT = "sent"
    DELIVERED = "delivered"
    READ = "read"
    PLAYED = "played"
    DELETED = "deleted"


class EventBase(Frozen):
    provider: Provider
    instance: str


class MessageEvent(EventBase):
    type: Literal["message"] = "message"
    provider_message_id: str
    direction: Direction
    chat: Identity
    sender: Identity | None = None
    kind: MessageKind
    text: str | None = None
    media: Media | None = None
    quoted_message_id: str | None = None
    target_message_id: str | None = None  # reactions, edits and revokes point at another message
    selected_id: str | None = None  # list / button replies: the id of the chosen row or button
    location: Location | None = None
    shared_contacts: tuple[SharedContact, ...] = ()
    occurred_at: datetime
    push_name: str | None = None
    referral: Referral | None = None
    status: AckStatus | None = None  # the ack the gateway reported with the message itself
    ephemeral: bool = False
    view_once: bool = False
    locked_chat: bool = False

    def dedupe_key(self, tenant_id: str) -> tuple[str, str, str, str, str]:
        return (tenant_id, self.instance, self.chat.key, self.provider_message_id, self.direction.value)


class StatusEvent(EventBase):
    type: Literal["status"] = "status"
    provider_message_id: str
    chat: Identity | None = None
    from_me: bool | None = None
    status: AckStatus
    occurred_at: datetime | None = None
    # a failed send's reason as a machine code (Cloud API: Meta's error code mapped, see
    # ``ponte.domain.meta_errors``); None for every other status
    error_code: str | None = None


class ConnectionState(StrEnum):
    OPEN = "open"
    CONNECTING = "connecting"
    CLOSE = "close"
    NOT_LOGGED = "not_logged"
    QR_READ_SUCCESS = "qr_read_success"
    DISCONNECTED_MOBILE = "disconnected_mobile"
    OTHER = "other"


class ConnectionEvent(EventBase):
    type: Literal["connection"] = "connection"
    state: ConnectionState
    reason: str | None = None
    status_code: int | None = None
    provider_state: str | None = None


class QrEvent(EventBase):
    type: Literal["qr"] = "qr"
    qr_code: str | None = None  # the raw QR string a UI renders
    qr_image: str | None = None  # a data: URL / base64 PNG when the gateway sends one
    pairing_code: str | None = None


class ContactUpdate(Frozen):
    identity: Identity
    push_name: str | None = None
    picture_url: str | None = None


class ContactsEvent(EventBase):
    type: Literal["contacts"] = "contacts"
    contacts: tuple[ContactUpdate, ...]


CanonicalEvent = Annotated[
    MessageEvent | StatusEvent | ConnectionEvent | QrEvent | ContactsEvent,
    Field(discriminator="type"),
]


_M = TypeVar("_M", bound=BaseModel)


class _Blueprint:
    """What ``build`` needs of a model class, computed once per class."""

    __slots__ = ("defaults", "full", "names", "size")

    def __init__(self, cls: type[BaseModel]) -> None:
        fields = cls.model_fields
        self.defaults: dict[str, Any] = {name: info.default for name, info in fields.items() if not info.is_required()}
        self.names = frozenset(fields)
        self.size = len(fields)
        # every field, the required ones as None: ``template`` hands out copies to fill in
        self.full: dict[str, Any] = {name: self.defaults.get(name) for name in fields}


_BLUEPRINTS: dict[type[BaseModel], _Blueprint] = {}
# The setters of BaseModel's four slots, called directly: what ``object.__setattr__`` finds
# after a type lookup on every call. (``object.__new__``: no model here defines ``__new__``.)
_new = object.__new__
_set_dict, _set_fields_set, _set_extra, _set_private = (
    BaseModel.__dict__[name].__set__
    for name in ("__dict__", "__pydantic_fields_set__", "__pydantic_extra__", "__pydantic_private__")
)


def _blueprint(cls: type[BaseModel]) -> _Blueprint:
    blueprint = _BLUEPRINTS.get(cls)
    if blueprint is None:
        blueprint = _BLUEPRINTS[cls] = _Blueprint(cls)
    return blueprint


def template(cls: type[BaseModel]) -> dict[str, Any]:
    """A dict with every field of ``cls`` at its default (required ones None), for ``build``.

    Filling a template in place is the cheapest way to build a model with many fields: the
    copy is one memory copy and ``build`` takes a dict that names every field as it is.
    """
    return _blueprint(cls).full.copy()


def build(cls: type[_M], values: dict[str, Any]) -> _M:
    """``cls(**values)`` without pydantic's validation, for the normalizers' hot path.

    Only for values the caller has already type-checked (the provider readers return exact
    types: ``str``, ``int``, enums, tuples, models). ``values`` is taken over (never reuse it).
    A dict that names every field is used as it is; otherwise the defaults fill the rest. Every
    default of these models is immutable (None, False, (), an enum or a literal), so defaults
    are shared rather than copied -- which is what makes this cheaper than ``model_construct``.
    The fuzz and golden tests round-trip every event built this way through full validation
    and compare.
    """
    blueprint = _BLUEPRINTS.get(cls) or _blueprint(cls)
    if len(values) == blueprint.size:
        fields_set = set(blueprint.names)
    else:
        fields_set = set(values)
        values = {**blueprint.defaults, **values}
    instance = _new(cls)
    _set_dict(instance, values)
    _set_fields_set(instance, fields_set)
    _set_extra(instance, None)
    _set_private(instance, None)
    return instance


def trusted(cls: type[_M], **fields: Any) -> _M:
    """``build`` with keyword arguments, for the paths that are not per message."""
    return build(cls, fields)
