"""The fast path's rules (the lexicon score is an input here)."""

from __future__ import annotations

import pytest

from ponte.domain.analysis import Intent, LabeledExample, Sentiment, Urgency
from ponte.domain.fast_labels import fast_analysis, normalize, rule_intent

pytestmark = pytest.mark.unit


@pytest.mark.parametrize(
    ("text", "intent"),
    [
        ("Fui cobrado duas vezes no cartão, quero o estorno", Intent.BILLING_DISPUTE),
        ("Dá pra parcelar em 3x sem juros?", Intent.BILLING_NEGOTIATION),
        ("Segue o comprovante do pix", Intent.BILLING_PAYMENT),
        ("Meu pedido não chegou, que descaso", Intent.COMPLAINT),
        ("Quanto custa a blusa preta? tem tamanho M?", Intent.PURCHASE_INTEREST),
        ("Não consigo entrar no app, esqueci a senha", Intent.SUPPORT_REQUEST),
        ("Oi, bom dia!", Intent.GREETING),
        ("ok", Intent.OTHER),
    ],
)
def test_intent_rules(text: str, intent: Intent) -> None:
    assert rule_intent(text)[0] is intent


def test_short_words_match_whole_words_only() -> None:
    assert rule_intent("tenho dois filhos")[0] is Intent.OTHER  # "oi" inside "dois" is not a greeting


def test_normalize_removes_accents_and_case() -> None:
    assert normalize("  Cobrança   INDEVIDA ") == "cobranca indevida"


def test_degraded_analysis_has_no_reply_and_flags_itself() -> None:
    a = fast_analysis("Quero cancelar hoje, é urgente", 0.0)
    assert a.degraded and a.suggested_reply is None and a.reply_source == "none"
    assert a.urgency is Urgency.HIGH


def test_complaints_lean_negative_and_slang_praise_positive() -> None:
    assert fast_analysis("que absurdo, péssimo atendimento", 0.0).sentiment is Sentiment.NEGATIVE
    assert fast_analysis("amei!! 😍", 0.0).sentiment is Sentiment.POSITIVE


def test_a_tenant_example_with_the_same_text_wins_over_the_rules() -> None:
    example = LabeledExample(text="Tá salgado hein", intent=Intent.BILLING_NEGOTIATION, sentiment=Sentiment.NEGATIVE)
    a = fast_analysis("tá  SALGADO hein", 0.0, [example])
    assert (a.intent, a.sentiment) == (Intent.BILLING_NEGOTIATION, Sentiment.NEGATIVE)
