"""Opt-out (and opt-in) in a contact's reply, in Brazilian Portuguese (no I/O).

Two ways a reply opts out:

- a **keyword**: the whole reply, normalized (lower case, accents and punctuation dropped,
  emoji ignored), is one of the tenant's words -- "SAIR", "Parar!", "stop", "cancelar.";
- a **clear request** anywhere in the reply: "não quero mais receber", "pare de me mandar
  mensagem", "me tira da lista", "quero me descadastrar"... Meta and the BSPs ask to honour any
  clear request, not one exact word.

A keyword must be the whole reply so that "não consigo parar de rir" or "cancelar meu pedido
de ontem" never unsubscribe anyone; the phrases are specific to messaging.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Literal

from pydantic import BaseModel, ConfigDict

# From operations.md §5: BR peers, VTEX/Weni, Adobe's pt-BR list, plus STOP.
DEFAULT_OPT_OUT_WORDS: tuple[str, ...] = (
    "sair",
    "parar",
    "pare",
    "stop",
    "cancelar",
    "remover",
    "encerrar",
    "descadastrar",
    "cancelar assinatura",
    "nao quero mais",
    "unsubscribe",
)
# A reply that is one of these, from a contact who opted out, opts them in again.
DEFAULT_OPT_IN_WORDS: tuple[str, ...] = ("assinar", "retomar", "reativar", "voltar a receber", "quero receber")

MAX_SCANNED_CHARS = 2000
MAX_WORDS = 50
MAX_WORD_CHARS = 60

_NOT_WORD = re.compile(r"[^0-9a-z]+")
# Clear requests, over the normalized text (no accents, lower case, single spaces).
_SEND = r"(?:mandar|enviar|mandarem|enviarem|mande|envie|mandem|enviem|manda|envia)"
_PHRASES: tuple[re.Pattern[str], ...] = tuple(
    re.compile(p)
    for p in (
        r"\bnao quero (?:mais )?(?:receber|essas? mensage|mensage|propaganda|promoc|isso aqui)",
        r"\bnao (?:me )?" + _SEND + r" mais\b",
        r"\b(?:pare|parem|para|parar|pode parar) de (?:me )?" + _SEND,
        r"\b(?:me |meu numero )?(?:tira|tire|tirem|retira|retire|remova|remove|removam|exclua|exclui|apague|apaga)"
        r" (?:meu numero|meu contato|(?:da|dessa|desta|de sua|da sua) lista|do (?:seu )?cadastro)",
        r"\b(?:quero|gostaria de|desejo)"
        r" (?:sair da lista|me descadastrar|ser removid|descadastrar|cancelar o recebimento)",
        r"\bdescadastr",
        r"\bcancel(?:ar|e|em) (?:o recebimento|as mensagens|essas mensagens|a inscricao|minha inscricao)",
        r"\bnao (?:tenho interesse|me interessa)(?: nessas| em)? (?:mensagens|promocoes)",
    )
)
# "não quero sair", "não pode parar de mandar": a negation right before the request undoes it
_NEGATED = re.compile(r"\bnao (?:quero|vou|pode|precisa) (?:sair|parar|cancelar|me descadastrar)\b")


def normalize(text: str) -> str:
    """Lower case, no accents, letters and digits only, single spaces (the first 2,000 characters)."""
    decomposed = unicodedata.normalize("NFKD", text[:MAX_SCANNED_CHARS])
    stripped = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return _NOT_WORD.sub(" ", stripped.casefold()).strip()


def normalize_words(words: tuple[str, ...] | list[str]) -> tuple[str, ...]:
    """A tenant's word list as the detector compares it: normalized, deduplicated, non-empty."""
    seen: dict[str, None] = {}
    for word in words:
        key = normalize(word)
        if key:
            seen.setdefault(key, None)
    return tuple(seen)


class OptOutMatch(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    kind: Literal["keyword", "clear_request"]
    matched: str  # the normalized word or phrase


def detect_opt_out(text: str | None, words: tuple[str, ...] = DEFAULT_OPT_OUT_WORDS) -> OptOutMatch | None:
    """The opt-out in ``text``, or None. ``words``: the tenant's keywords (whole-reply matches)."""
    if not text:
        return None
    clean = normalize(text)
    if not clean:
        return None
    if clean in normalize_words(words):
        return OptOutMatch(kind="keyword", matched=clean)
    if _NEGATED.search(clean):
        return None
    for pattern in _PHRASES:
        found = pattern.search(clean)
        if found:
            return OptOutMatch(kind="clear_request", matched=found.group(0).strip())
    return None


def detect_opt_in(text: str | None, words: tuple[str, ...] = DEFAULT_OPT_IN_WORDS) -> bool:
    """True when the whole reply is one of the opt-in words (only asked of a contact who opted out)."""
    if not text:
        return False
    return normalize(text) in normalize_words(words)
