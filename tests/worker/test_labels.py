"""The label path: examples, k-NN memory, tenant corrections, urgency rules, templates."""

from __future__ import annotations

import json
from collections import Counter

import numpy as np
import pytest

from inference_worker.labels import Labeler, Labels, fast_analysis
from inference_worker.labels.memory import EXAMPLES_FILE, VECTORS_FILE, digest_of, load_examples
from inference_worker.labels.rules import fold, urgency
from inference_worker.templates import template_reply
from ponte.domain.analysis import (
    MAX_REPLY_CHARS,
    Analysis,
    AnalyzeRequest,
    Intent,
    LabeledExample,
    Sentiment,
    Urgency,
)

pytestmark = pytest.mark.unit


def test_the_example_set_covers_every_label_and_has_no_duplicates() -> None:
    examples = load_examples()
    assert len(examples) >= 300
    assert set(Counter(e.sentiment for e in examples)) == set(Sentiment)
    assert set(Counter(e.intent for e in examples)) == set(Intent)
    texts = [e.text.lower() for e in examples]
    assert len(texts) == len(set(texts))


def test_shipped_vectors_match_the_example_file(labeler: Labeler) -> None:
    # GIVEN the precomputed archive
    with np.load(VECTORS_FILE) as archive:
        assert str(archive["digest"]) == digest_of(EXAMPLES_FILE)
        vectors = archive["vectors"].astype(np.float32)
    # THEN its rows are the embeddings of the file's texts, in order
    examples = [json.loads(line) for line in EXAMPLES_FILE.read_text(encoding="utf-8").splitlines()]
    for i in (0, len(examples) // 2, len(examples) - 1):
        fresh = labeler.embedder.embed(examples[i]["text"])
        assert float(fresh @ vectors[i]) > 0.999


@pytest.mark.parametrize(
    ("text", "sentiment", "intent"),
    [
        (
            "me cobraram duas vezes a mesma compra no cartão, quero meu dinheiro de volta",
            {"negative"},
            "billing_dispute",
        ),
        ("oi, boa tarde! tudo bem?", {"neutral"}, "greeting"),
        # a buying question is neutral or keen, never negative
        ("vocês têm essa mochila na cor verde? quanto custa?", {"neutral", "positive"}, "purchase_interest"),
        ("recebi hoje e amei, muito obrigada pelo carinho!", {"positive"}, "other"),
        ("qual a chave pix pra eu pagar a parcela?", {"neutral"}, "billing_payment"),
    ],
)
def test_clear_messages_get_the_expected_labels(labeler: Labeler, text: str, sentiment: set[str], intent: str) -> None:
    labels = labeler.label(text)
    assert labels.sentiment in sentiment
    assert labels.intent == intent
    assert 0.0 < labels.intent_confidence <= 1.0


def test_a_tenant_correction_changes_the_label_of_similar_messages(labeler: Labeler) -> None:
    # GIVEN a tenant whose customers say "tá na mão?" to ask whether their order arrived
    message = "e aí, tá na mão já?"
    before = labeler.label(message)
    correction = LabeledExample(text="tá na mão já?", sentiment=Sentiment.NEUTRAL, intent=Intent.SUPPORT_REQUEST)
    # WHEN the correction joins that tenant's memory
    after = labeler.label(message, [correction])
    # THEN the message follows the correction
    assert before.intent != Intent.SUPPORT_REQUEST
    assert after.intent == Intent.SUPPORT_REQUEST


def test_fast_analysis_is_a_valid_analysis_with_a_template_reply(labeler: Labeler) -> None:
    request = AnalyzeRequest(text="quero cancelar, vou no Procon hoje!", contact_name="Maria Souza")
    analysis = fast_analysis(request, labeler)
    Analysis.model_validate(analysis.model_dump())
    assert analysis.urgency == Urgency.HIGH
    assert analysis.reply_source == "template"
    assert analysis.suggested_reply is not None and analysis.suggested_reply.startswith("Olá, Maria!")
    no_reply = fast_analysis(AnalyzeRequest(text="ok", want_reply=False), labeler)
    assert (no_reply.suggested_reply, no_reply.reply_source) == (None, "none")


@pytest.mark.parametrize(
    ("text", "intent", "sentiment", "expected"),
    [
        ("Vou abrir reclamação no PROCON", Intent.COMPLAINT, Sentiment.NEGATIVE, Urgency.HIGH),
        ("cadê o estorno?", Intent.BILLING_DISPUTE, Sentiment.NEUTRAL, Urgency.HIGH),
        ("preciso disso hoje, não chegou ainda", Intent.COMPLAINT, Sentiment.NEGATIVE, Urgency.HIGH),
        ("consigo retirar hoje?", Intent.SUPPORT_REQUEST, Sentiment.NEUTRAL, Urgency.MEDIUM),
        ("a caixa veio amassada", Intent.COMPLAINT, Sentiment.NEGATIVE, Urgency.MEDIUM),
        ("tem no tamanho P?", Intent.PURCHASE_INTEREST, Sentiment.NEUTRAL, Urgency.LOW),
        ("hojeeee não", Intent.OTHER, Sentiment.NEUTRAL, Urgency.LOW),
    ],
)
def test_urgency_rules(text: str, intent: Intent, sentiment: Sentiment, expected: Urgency) -> None:
    assert urgency(text, intent, sentiment) == expected


def test_fold_removes_case_and_accents() -> None:
    assert fold("Não, JÁ É HOJE") == "nao, ja e hoje"


@pytest.mark.parametrize("intent", list(Intent))
def test_templates_fit_the_contract(intent: Intent) -> None:
    for sentiment in Sentiment:
        reply = template_reply(intent, sentiment, "José da Silva " * 10)
        assert 0 < len(reply) <= MAX_REPLY_CHARS
        assert "{" not in reply


def test_labels_carry_confidences_and_a_low_confidence_mark(labeler: Labeler) -> None:
    # GIVEN a clear message and a vague one
    clear = labeler.label("qual a chave pix pra eu pagar a parcela?")
    vague = Labels(
        sentiment=Sentiment.NEUTRAL,
        sentiment_score=0.0,
        intent=Intent.OTHER,
        intent_confidence=0.31,
        urgency=Urgency.LOW,
        sentiment_confidence=0.9,
    )
    # THEN both confidences are shares in (0, 1] and only a label under the threshold is marked
    assert 0.5 <= clear.intent_confidence <= 1.0 and 0.5 <= clear.sentiment_confidence <= 1.0
    assert not clear.low_confidence
    assert vague.low_confidence
    analysis = fast_analysis(AnalyzeRequest(text="qual a chave pix pra eu pagar a parcela?"), labeler)
    assert (analysis.sentiment_confidence, analysis.low_confidence) == (clear.sentiment_confidence, False)


def test_degraded_analyses_are_always_marked_low_confidence() -> None:
    from inference_worker.fallback import degraded_analysis
    from ponte.domain.fast_labels import fast_analysis as rules_analysis

    assert degraded_analysis(AnalyzeRequest(text="quero comprar")).low_confidence
    assert rules_analysis("quero comprar", 0.0).low_confidence
