"""The fast path: labels from keyword rules and a lexicon score, in well under a millisecond.

Used when the inference worker is unavailable (a degraded analysis, replaced later by
the full one). The lexicon score (LeIA's compound, -1..1) is computed by an adapter and
passed in, so this module stays pure. The keyword lists are the project's own, written
for Brazilian WhatsApp style; they are matched on lower-cased, accent-free text.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence

from ponte.domain.analysis import Analysis, Intent, LabeledExample, Sentiment, Urgency

LABELS_SOURCE = "rules+leia"
MODEL = "fast-path"

# First match wins: a dispute mentions a payment, a complaint may mention a purchase.
INTENT_RULES: tuple[tuple[Intent, tuple[str, ...]], ...] = (
    (
        Intent.BILLING_DISPUTE,
        (
            "cobranca indevida",
            "cobrado duas vezes",
            "cobraram duas vezes",
            "cobraram errado",
            "cobranca errada",
            "valor errado",
            "nao reconheco",
            "estorno",
            "estornar",
            "contestar",
            "procon",
            "cobranca em dobro",
            "cobrado a mais",
        ),
    ),
    (
        Intent.CANCELLATION,
        (
            "quero cancelar",
            "cancela pra mim",
            "cancela meu",
            "cancela minha",
            "cancelar o",
            "cancelar a",
            "cancelar meu",
            "cancelar minha",
            "cancelamento",
            "encerrar minha conta",
            "desistir da compra",
            "desisti do pedido",
        ),
    ),
    (
        Intent.BILLING_NEGOTIATION,
        ("parcelar", "parcelamento", "desconto", "negociar", "renegociar", "acordo", "abatimento", "prazo pra pagar"),
    ),
    (
        Intent.BILLING_PAYMENT,
        ("boleto", "pix", "pagamento", "paguei", "comprovante", "fatura", "segunda via", "2a via", "pagar"),
    ),
    (
        Intent.COMPLAINT,
        (
            "reclamacao",
            "reclamar",
            "pessimo",
            "horrivel",
            "absurdo",
            "nao chegou",
            "atrasad",
            "quebrad",
            "defeito",
            "veio errado",
            "descaso",
            "nunca mais",
            "decepcionad",
            "falta de respeito",
        ),
    ),
    (
        Intent.PURCHASE_INTEREST,
        (
            "quero comprar",
            "comprar",
            "preco",
            "quanto custa",
            "quanto e",
            "quanto fica",
            "tem disponivel",
            "disponivel",
            "tamanho",
            "orcamento",
            "encomend",
            "estoque",
            "catalogo",
            "promocao",
            "separar",
            "reservar",
            "frete",
            "tem esse",
            "tem essa",
            "quero o",
            "quero a",
        ),
    ),
    (
        Intent.SUPPORT_REQUEST,
        (
            "ajuda",
            "nao consigo",
            "como faco",
            "como eu faco",
            "problema",
            "suporte",
            "senha",
            "acesso",
            "rastreio",
            "rastrear",
            "trocar",
            "troca",
            "devolucao",
            "devolver",
            "endereco",
            "duvida",
        ),
    ),
    (Intent.GREETING, ("oi", "ola", "bom dia", "boa tarde", "boa noite", "tudo bem", "e ai")),
)

URGENT = ("urgente", "urgencia", "hoje", "agora", "imediat", "procon", "advogad", "cancelar", "o quanto antes", "!!!")
POSITIVE = ("amei", "adorei", "show", "top", "perfeit", "maravilh", "obrigad", "valeu", "otimo", "excelente")
NEGATIVE = ("pessim", "horrivel", "absurdo", "nao funciona", "decepcion", "lixo", "raiva", "vergonha", "procon")
POSITIVE_EMOJI = ("😍", "❤", "🥰", "😊", "👏", "🙏")
NEGATIVE_EMOJI = ("😡", "🤬", "😠", "😤", "👎")

SENTIMENT_THRESHOLD = 0.3
# LeIA scores greetings and polite words ("bom dia") positive: its compound is damped.
LEXICON_WEIGHT = 0.6
WORD = re.compile(r"[a-z0-9]+")


def normalize(text: str) -> str:
    """Lower-case, accents removed, whitespace collapsed: what the keyword rules match on."""
    decomposed = unicodedata.normalize("NFKD", text.lower())
    stripped = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return " ".join(stripped.split())


def _has(text: str, words: set[str], keyword: str) -> bool:
    # single words match whole words ("oi" must not match "dois"); phrases and stems match as substrings
    if " " not in keyword and keyword.isalnum() and len(keyword) <= 4:
        return keyword in words
    return keyword in text


def rule_intent(text: str) -> tuple[Intent, float]:
    norm = normalize(text)
    words = set(WORD.findall(norm))
    for intent, keywords in INTENT_RULES:
        hits = sum(1 for k in keywords if _has(norm, words, k))
        if hits:
            if intent is Intent.GREETING and len(words) > 6:
                continue  # a greeting followed by a real request is not a greeting
            return intent, min(0.9, 0.5 + 0.15 * hits)
    return Intent.OTHER, 0.3


def rule_sentiment(text: str, lexicon_compound: float, intent: Intent) -> tuple[Sentiment, float]:
    norm = normalize(text)
    words = set(WORD.findall(norm))
    score = LEXICON_WEIGHT * lexicon_compound
    score += 0.4 * sum(1 for k in POSITIVE if _has(norm, words, k)) + 0.4 * sum(1 for e in POSITIVE_EMOJI if e in text)
    score -= 0.4 * sum(1 for k in NEGATIVE if _has(norm, words, k)) + 0.4 * sum(1 for e in NEGATIVE_EMOJI if e in text)
    if intent in (Intent.COMPLAINT, Intent.BILLING_DISPUTE):
        score -= 0.3
    score = max(-1.0, min(1.0, score))
    if score >= SENTIMENT_THRESHOLD:
        return Sentiment.POSITIVE, score
    if score <= -SENTIMENT_THRESHOLD:
        return Sentiment.NEGATIVE, score
    return Sentiment.NEUTRAL, score


def rule_urgency(text: str, intent: Intent, sentiment: Sentiment) -> Urgency:
    norm = normalize(text)
    words = set(WORD.findall(norm))
    if any(_has(norm, words, k) for k in URGENT) or intent is Intent.BILLING_DISPUTE:
        return Urgency.HIGH
    if intent in (Intent.GREETING, Intent.OTHER) and sentiment is not Sentiment.NEGATIVE:
        return Urgency.LOW
    return Urgency.MEDIUM


def fast_analysis(text: str, lexicon_compound: float, examples: Sequence[LabeledExample] = ()) -> Analysis:
    """A degraded analysis: rules + lexicon, a tenant's corrected example when the text is the same."""
    intent, confidence = rule_intent(text)
    sentiment, score = rule_sentiment(text, lexicon_compound, intent)
    key = normalize(text)
    for example in examples:
        if normalize(example.text) == key:
            if example.intent is not None:
                intent, confidence = example.intent, 1.0
            if example.sentiment is not None and example.sentiment is not sentiment:
                sentiment = example.sentiment
                score = {Sentiment.POSITIVE: 0.6, Sentiment.NEUTRAL: 0.0, Sentiment.NEGATIVE: -0.6}[sentiment]
            break
    return Analysis(
        sentiment=sentiment,
        sentiment_score=round(score, 4),
        intent=intent,
        intent_confidence=confidence,
        urgency=rule_urgency(text, intent, sentiment),
        suggested_reply=None,
        reply_source="none",
        labels_source=LABELS_SOURCE,
        model=MODEL,
        degraded=True,
        low_confidence=True,
    )
