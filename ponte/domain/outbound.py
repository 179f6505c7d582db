"""What an outbound message carries beyond plain text (no I/O): a template, media, a location, a
contact card, interactive buttons or a list. One outbox row per send whatever its kind
(``public.outbound_messages.kind`` / ``payload``); the gateway clients turn it into their API's
request, or refuse with ``unsupported_by_provider``."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

Short = Annotated[str, StringConstraints(min_length=1, max_length=60, strip_whitespace=True)]
Label = Annotated[str, StringConstraints(min_length=1, max_length=24, strip_whitespace=True)]
Text = Annotated[str, StringConstraints(min_length=1, max_length=1024, strip_whitespace=True)]


class Strict(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class OutboundKind(StrEnum):
    TEXT = "text"
    TEMPLATE = "template"
    IMAGE = "image"
    DOCUMENT = "document"
    AUDIO = "audio"  # voice note when ``voice`` is set
    VIDEO = "video"
    LOCATION = "location"
    CONTACT = "contact"
    INTERACTIVE = "interactive"


MEDIA_KINDS = frozenset({OutboundKind.IMAGE, OutboundKind.DOCUMENT, OutboundKind.AUDIO, OutboundKind.VIDEO})


class TemplateParameter(Strict):
    type: str = Field(default="text", pattern=r"^(text|currency|date_time)$")
    text: Annotated[str, StringConstraints(max_length=1024)]


class TemplateComponent(Strict):
    """One component of Meta's template send: header / body parameters, or a button's."""

    type: str = Field(pattern=r"^(header|body|button)$")
    sub_type: str | None = Field(default=None, pattern=r"^(quick_reply|url)$")
    index: str | None = Field(default=None, pattern=r"^[0-9]$")
    parameters: tuple[TemplateParameter, ...] = Field(default=(), max_length=20)


class TemplateSpec(Strict):
    name: str = Field(min_length=1, max_length=512, pattern=r"^[a-z0-9_]+$")
    language: str = Field(default="pt_BR", min_length=2, max_length=10, pattern=r"^[A-Za-z_]+$")
    components: tuple[TemplateComponent, ...] = Field(default=(), max_length=10)


class MediaSpec(Strict):
    """A file uploaded through a signed upload URL: the object's key in the media bucket."""

    upload_id: str = Field(min_length=1, max_length=200)
    caption: Annotated[str, StringConstraints(max_length=1024)] | None = None
    filename: Annotated[str, StringConstraints(max_length=240)] | None = None
    voice: bool = False


class LocationSpec(Strict):
    latitude: float = Field(ge=-90, le=90)
    longitude: float = Field(ge=-180, le=180)
    name: Annotated[str, StringConstraints(max_length=200)] | None = None
    address: Annotated[str, StringConstraints(max_length=400)] | None = None


class ContactSpec(Strict):
    name: Short
    phones: tuple[Annotated[str, StringConstraints(min_length=3, max_length=40)], ...] = Field(
        min_length=1, max_length=5
    )


class Choice(Strict):
    id: Annotated[str, StringConstraints(min_length=1, max_length=200)]
    title: Label
    description: Annotated[str, StringConstraints(max_length=72)] | None = None


class InteractiveSpec(Strict):
    """Reply buttons (at most 3) or a list (at most 10 rows), as WhatsApp allows."""

    body: Text
    buttons: tuple[Choice, ...] = Field(default=(), max_length=3)
    list_button: Label | None = None
    rows: tuple[Choice, ...] = Field(default=(), max_length=10)


class OutboundContent(Strict):
    kind: OutboundKind
    text: str | None = None
    template: TemplateSpec | None = None
    media: MediaSpec | None = None
    location: LocationSpec | None = None
    contact: ContactSpec | None = None
    interactive: InteractiveSpec | None = None

    def preview(self) -> str:
        """The outbox row's ``body`` and the stored message's text: what an agent reads back."""
        if self.kind is OutboundKind.TEXT:
            return self.text or ""
        if self.template is not None:
            return f"[modelo] {self.template.name}"
        if self.media is not None:
            return self.media.caption or self.media.filename or f"[{self.kind.value}]"
        if self.location is not None:
            return self.location.name or f"{self.location.latitude:.5f}, {self.location.longitude:.5f}"
        if self.contact is not None:
            return self.contact.name
        if self.interactive is not None:
            return self.interactive.body
        return ""

    def payload(self) -> dict[str, Any] | None:
        """What the outbox keeps beyond the text (None for a text)."""
        if self.kind is OutboundKind.TEXT:
            return None
        return self.model_dump(mode="json", exclude_none=True, exclude={"kind", "text"})


def text_content(text: str) -> OutboundContent:
    return OutboundContent(kind=OutboundKind.TEXT, text=text)
