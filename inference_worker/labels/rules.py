"""Urgency from keywords, intent and sentiment. Matched on lower-cased, accent-free text."""

from __future__ import annotations

import re
import unicodedata

from ponte.domain.analysis import Intent, Sentiment, Urgency

# Escalation words: a third party, money back, or the customer says it is urgent.
ESCALATION = (
    "procon",
    "reclame aqui",
    "reclameaqui",
    "advogado",
    "justica",
    "juizado",
    "processar",
    "estorno",
    "estornar",
    "reembolso",
    "chargeback",
    "urgente",
    "urgencia",
    "emergencia",
    "fraude",
    "golpe",
    "cancelar tudo",
)
# Time pressure: alone it makes a message more pressing; with a negative tone, urgent.
TIME_PRESSURE = (
    "hoje",
    "agora",
    "imediatamente",
    "o quanto antes",
    "o mais rapido",
    "ainda hoje",
    "amanha cedo",
    "ja ja",
)
PRESSING_INTENTS = frozenset(
    {Intent.BILLING_DISPUTE, Intent.COMPLAINT, Intent.BILLING_NEGOTIATION, Intent.CANCELLATION}
)

_WORD_CACHE: dict[str, re.Pattern[str]] = {}


def fold(text: str) -> str:
    """Lower case without accents: 'Não, HOJE' -> 'nao, hoje'."""
    decomposed = unicodedata.normalize("NFKD", text.lower())
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def _has(folded: str, phrases: tuple[str, ...]) -> bool:
    for phrase in phrases:
        pattern = _WORD_CACHE.get(phrase)
        if pattern is None:
            pattern = _WORD_CACHE.setdefault(phrase, re.compile(rf"\b{re.escape(phrase)}\b"))
        if pattern.search(folded):
            return True
    return False


def urgency(text: str, intent: Intent, sentiment: Sentiment) -> Urgency:
    folded = fold(text)
    negative = sentiment is Sentiment.NEGATIVE
    pressed = _has(folded, TIME_PRESSURE) or "!!" in text
    if _has(folded, ESCALATION) or (negative and pressed):
        return Urgency.HIGH
    if negative or pressed or intent in PRESSING_INTENTS:
        return Urgency.MEDIUM
    return Urgency.LOW
