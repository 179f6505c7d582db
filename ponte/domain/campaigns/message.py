"""A campaign's message: pt-BR texts with variables, the tenant's opt-out instruction on every one,
and on the Cloud API an approved template with parameters (no I/O).

Variables, written ``{{nome}}``: ``nome`` (first name), ``nome_completo``, ``vencimento`` (due
date, 05/12/2026), ``valor`` (amount, R$ 1.234,56) and ``link``. A recipient's own values (the CSV
row, the contact, the ERP record) win over the campaign's defaults; a recipient still missing a
variable the text uses is excluded, never sent a hole.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from datetime import date
from decimal import Decimal
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator, model_validator

from ponte.domain.campaigns.opt_out import normalize

Variable = Literal["nome", "nome_completo", "vencimento", "valor", "link"]
VARIABLES: tuple[str, ...] = ("nome", "nome_completo", "vencimento", "valor", "link")
MAX_VARIANTS = 5
MAX_TEXT_CHARS = 1000
MAX_LINK_CHARS = 500
DEFAULT_OPT_OUT_INSTRUCTION = "Para não receber mais mensagens como esta, responda SAIR."
DEFAULT_OPT_OUT_CONFIRMATION = "Pronto! Você não receberá mais nossas mensagens. Se mudar de ideia, responda ASSINAR."

_PLACEHOLDER = re.compile(r"\{\{\s*([^{}\s]{0,40})\s*\}\}")
_LINK = re.compile(r"^https?://[^\s<>\"']{3,}$")
# Neutral openings and closings that make two bodies differ without changing what they say.
_OPENINGS: tuple[str, ...] = ("", "Olá! ", "Oi! ", "Olá, tudo bem? ", "Oi, tudo bem? ", "Olá, como vai? ")
_CLOSINGS: tuple[str, ...] = ("", " Obrigado!", " Até breve!", " Abraços!", " Conte com a gente!")

TemplateText = Annotated[str, StringConstraints(min_length=1, max_length=MAX_TEXT_CHARS)]


class Strict(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


def placeholders(text: str) -> tuple[str, ...]:
    """The variables ``text`` uses, in order of first use."""
    seen: dict[str, None] = {}
    for name in _PLACEHOLDER.findall(text):
        seen.setdefault(name, None)
    return tuple(seen)


def valid_link(value: str) -> bool:
    return len(value) <= MAX_LINK_CHARS and bool(_LINK.match(value))


class RecipientValues(Strict):
    """What a recipient's variables are filled with (None: unknown)."""

    name: Annotated[str, StringConstraints(max_length=120)] | None = None
    due_date: date | None = None
    amount: Decimal | None = Field(default=None, ge=0, le=Decimal("1000000000"), decimal_places=2)
    link: Annotated[str, StringConstraints(max_length=MAX_LINK_CHARS)] | None = None

    @field_validator("link")
    @classmethod
    def _link(cls, value: str | None) -> str | None:
        if value is not None and not valid_link(value):
            raise ValueError("link must be an http(s) URL without spaces")
        return value

    def merged(self, defaults: RecipientValues) -> RecipientValues:
        return RecipientValues(
            name=self.name or defaults.name,
            due_date=self.due_date or defaults.due_date,
            amount=self.amount if self.amount is not None else defaults.amount,
            link=self.link or defaults.link,
        )


class CloudTemplate(Strict):
    """An approved Cloud API template: its name, language, and the variables of its body
    parameters in order ({{1}}, {{2}}, ...)."""

    name: str = Field(min_length=1, max_length=512, pattern=r"^[a-z0-9_]+$")
    language: str = Field(default="pt_BR", min_length=2, max_length=10, pattern=r"^[A-Za-z_]+$")
    body_parameters: tuple[Variable, ...] = Field(default=(), max_length=10)


class CampaignMessage(Strict):
    """``variants``: 1 to 5 texts (recipients get them in turn); ``cloud_template``: what goes out
    on a Cloud API instance instead; ``personalize``: ``llm`` asks the local model for a rewrite
    per recipient (checked, length-capped; the template text otherwise)."""

    variants: tuple[TemplateText, ...] = Field(min_length=1, max_length=MAX_VARIANTS)
    cloud_template: CloudTemplate | None = None
    defaults: RecipientValues = RecipientValues()
    personalize: Literal["none", "llm"] = "none"

    @model_validator(mode="after")
    def _known_variables(self) -> CampaignMessage:
        for text in self.variants:
            if not text.strip():
                raise ValueError("a variant is empty")
            unknown = [name for name in placeholders(text) if name not in VARIABLES]
            if unknown:
                raise ValueError(f"unknown variable {{{{{unknown[0]}}}}}; use {', '.join(VARIABLES)}")
        return self

    def required(self) -> tuple[str, ...]:
        """Every variable some variant or the template needs."""
        names: dict[str, None] = {}
        for text in self.variants:
            for name in placeholders(text):
                names.setdefault(name, None)
        if self.cloud_template is not None:
            for name in self.cloud_template.body_parameters:
                names.setdefault(name, None)
        return tuple(names)


def first_name(name: str) -> str:
    words = name.split()
    return words[0].capitalize() if words else ""


def format_amount(amount: Decimal) -> str:
    """R$ 1.234,56"""
    whole, cents = f"{amount.quantize(Decimal('0.01')):,.2f}".split(".")
    return f"R$ {whole.replace(',', '.')},{cents}"


def format_date(day: date) -> str:
    return day.strftime("%d/%m/%Y")


def variable_value(name: str, values: RecipientValues) -> str | None:
    """The text of one variable for this recipient, or None when unknown."""
    if name == "nome":
        return first_name(values.name) or None if values.name else None
    if name == "nome_completo":
        return " ".join(values.name.split()) or None if values.name else None
    if name == "vencimento":
        return format_date(values.due_date) if values.due_date else None
    if name == "valor":
        return format_amount(values.amount) if values.amount is not None else None
    if name == "link":
        return values.link
    return None


def missing_variables(message: CampaignMessage, values: RecipientValues) -> tuple[str, ...]:
    merged = values.merged(message.defaults)
    return tuple(name for name in message.required() if variable_value(name, merged) is None)


def render(text: str, values: RecipientValues) -> str:
    """``text`` with its variables filled (a missing one raises KeyError: check first)."""

    def fill(match: re.Match[str]) -> str:
        value = variable_value(match.group(1), values)
        if value is None:
            raise KeyError(match.group(1))
        return value

    return _PLACEHOLDER.sub(fill, text).strip()


def with_opt_out(body: str, instruction: str) -> str:
    """The body with the tenant's opt-out instruction after a blank line (once)."""
    instruction = instruction.strip()
    if not instruction or normalize(instruction) in normalize(body):
        return body
    return f"{body}\n\n{instruction}"


def template_parameters(template: CloudTemplate, values: RecipientValues) -> tuple[str, ...]:
    """The template's body parameters for this recipient, in order."""
    out = []
    for name in template.body_parameters:
        value = variable_value(name, values)
        if value is None:
            raise KeyError(name)
        out.append(value)
    return tuple(out)


def content_hash(*parts: str) -> str:
    return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()


class DiversityError(ValueError):
    """More recipients would get one identical text than the neutral variations can spread."""


def diversify(bodies: Sequence[str], max_identical: int | None) -> list[str]:
    """``bodies`` with neutral openings/closings added where more than ``max_identical``
    recipients would get the same text, so that no ``max_identical + 1`` get an identical one.
    Raises :class:`DiversityError` when even the variations run out (add variants or variables)."""
    if max_identical is None:
        return list(bodies)
    combos = [(o, c) for c in _CLOSINGS for o in _OPENINGS]
    seen: dict[str, int] = {}
    used: dict[str, int] = {}
    out: list[str] = []
    for body in bodies:
        n = seen.get(body, 0)
        seen[body] = n + 1
        for k in range(n // max_identical, len(combos)):
            opening, closing = combos[k]
            candidate = f"{opening}{body}{closing}" if k else body
            if used.get(candidate, 0) < max_identical:
                break
        else:
            raise DiversityError("too many recipients would get an identical text: add variants or {{nome}}")
        used[candidate] = used.get(candidate, 0) + 1
        out.append(candidate)
    return out
