"""Checks on the local model's rewrite of a campaign message (no I/O).

The model may reword, never change the facts nor promise anything the approved text does not:

- not empty, at most ``max_chars`` characters, no variable left as ``{{...}}``;
- every link of the original is kept, and no other link appears;
- every number of the original (amount, due date, percentages) is kept, and no other number
  appears (an invented discount, a different date);
- no forbidden promise ("garantido", "grátis", "sem juros", "100%", "última chance"...) that the
  original does not already say; the tenant adds its own phrases.

A rewrite that fails any check is dropped and the template text goes out.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from pydantic import BaseModel, ConfigDict, Field

from ponte.domain.campaigns.opt_out import normalize

DEFAULT_MAX_CHARS = 600
# normalized (no accents, lower case) fragments: a promise the approved text must already make
DEFAULT_FORBIDDEN: tuple[str, ...] = (
    "garantid",
    "garanto",
    "gratis",
    "gratuit",
    "sem juros",
    "sem custo",
    "de graca",
    "100",
    "desconto",
    "promocao",
    "brinde",
    "ultima chance",
    "so hoje",
    "imperdivel",
    "prometo",
    "prometemos",
    "aprovado",
    "sem consulta",
    "cashback",
    "reembolso",
)
MAX_RULES = 100

_URL = re.compile(r"https?://[^\s<>\"']+")
_NUMBER = re.compile(r"\d+(?:[.,]\d+)*")


class RewriteRules(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    max_chars: int = Field(default=DEFAULT_MAX_CHARS, ge=20, le=4000)
    forbidden: tuple[str, ...] = DEFAULT_FORBIDDEN


def _urls(text: str) -> set[str]:
    return {u.rstrip(".,;:!?)") for u in _URL.findall(text)}


def _numbers(text: str) -> set[str]:
    without_links = _URL.sub(" ", text)
    return {n.strip(".,") for n in _NUMBER.findall(without_links)}


DEFAULT_RULES = RewriteRules()


def rewrite_violations(original: str, rewritten: str, rules: RewriteRules = DEFAULT_RULES) -> list[str]:
    """Why ``rewritten`` may not replace ``original`` (empty: it may)."""
    problems: list[str] = []
    text = rewritten.strip()
    if not text:
        return ["empty"]
    if len(text) > rules.max_chars:
        problems.append("too_long")
    if "{{" in text or "}}" in text:
        problems.append("placeholder_left")
    if _urls(text) != _urls(original):
        problems.append("links_changed")
    if _numbers(text) != _numbers(original):
        problems.append("numbers_changed")
    plain_original, plain_text = normalize(original), normalize(text)
    for fragment in forbidden_fragments(rules.forbidden):
        if fragment in plain_text and fragment not in plain_original:
            problems.append(f"forbidden:{fragment}")
    return problems


def forbidden_fragments(phrases: Sequence[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(f for f in (normalize(p) for p in phrases[:MAX_RULES]) if f))


class RewriteRequest(BaseModel):
    """``POST /v1/rewrite`` on the inference worker: one recipient's campaign text to reword."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    text: str = Field(min_length=1, max_length=2000)
    name: str | None = Field(default=None, max_length=120)
    max_chars: int = Field(default=DEFAULT_MAX_CHARS, ge=20, le=1000)


class RewriteResponse(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    text: str
    model: str
