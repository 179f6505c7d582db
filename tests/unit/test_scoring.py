"""Lead score parts, the triage table and the SLA due times."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from ponte.domain.analysis import Analysis, Intent, Sentiment, Urgency
from ponte.domain.scoring import Engagement, Priority, lead_score, triage, with_corrected_labels

pytestmark = pytest.mark.unit

AT = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
QUIET = Engagement(inbound_messages=1, outbound_messages=0)


def analysis(
    sentiment: Sentiment = Sentiment.NEUTRAL,
    score: float = 0.0,
    intent: Intent = Intent.OTHER,
    confidence: float = 0.8,
    urgency: Urgency = Urgency.LOW,
) -> Analysis:
    return Analysis(
        sentiment=sentiment,
        sentiment_score=score,
        intent=intent,
        intent_confidence=confidence,
        urgency=urgency,
        labels_source="test",
        model="test",
    )


def test_a_happy_engaged_buyer_scores_high_and_the_parts_add_up() -> None:
    buyer = analysis(Sentiment.POSITIVE, 0.8, Intent.PURCHASE_INTEREST, 1.0)
    score = lead_score(buyer, Engagement(inbound_messages=8, outbound_messages=3, replied_to_agent=True))
    assert score.parts.intent == 45 and score.parts.sentiment == 22 and score.parts.engagement == 30
    assert score.total == 97 == score.parts.intent + score.parts.sentiment + score.parts.engagement


def test_an_angry_dispute_scores_low() -> None:
    dispute = analysis(Sentiment.NEGATIVE, -0.9, Intent.BILLING_DISPUTE, 0.9, Urgency.HIGH)
    score = lead_score(dispute, QUIET)
    assert score.parts.intent == 0
    assert score.total < 10


@pytest.mark.parametrize(
    ("intent", "expected_order"),
    [(Intent.PURCHASE_INTEREST, 0), (Intent.BILLING_NEGOTIATION, 1), (Intent.SUPPORT_REQUEST, 2), (Intent.OTHER, 3)],
)
def test_purchase_intent_weighs_most(intent: Intent, expected_order: int) -> None:
    ranked = sorted(
        [Intent.PURCHASE_INTEREST, Intent.BILLING_NEGOTIATION, Intent.SUPPORT_REQUEST, Intent.OTHER],
        key=lambda i: -lead_score(analysis(intent=i), QUIET).total,
    )
    assert ranked.index(intent) == expected_order


def test_engagement_grows_with_messages_and_caps() -> None:
    totals = [lead_score(analysis(), Engagement(inbound_messages=n, outbound_messages=0)).total for n in (1, 4, 8, 50)]
    assert totals[0] < totals[1] < totals[2] == totals[3]


@pytest.mark.parametrize(
    ("urgency", "priority", "due"),
    [
        (Urgency.LOW, Priority.LOW, timedelta(hours=24)),
        (Urgency.MEDIUM, Priority.MEDIUM, timedelta(hours=4)),
        (Urgency.HIGH, Priority.HIGH, timedelta(hours=1)),
    ],
)
def test_triage_table_from_urgency(urgency: Urgency, priority: Priority, due: timedelta) -> None:
    a = analysis(urgency=urgency, intent=Intent.SUPPORT_REQUEST)
    t = triage(a, lead_score(a, QUIET), AT)
    assert (t.priority, t.sla_due_at) == (priority, AT + due)


def test_negative_sentiment_raises_priority_one_level() -> None:
    a = analysis(Sentiment.NEGATIVE, -0.7, Intent.COMPLAINT, urgency=Urgency.MEDIUM)
    t = triage(a, lead_score(a, QUIET), AT)
    assert t.priority is Priority.HIGH and t.sla_due_at == AT + timedelta(hours=1)
    assert "negative_sentiment" in t.reasons


def test_an_angry_urgent_dispute_is_critical_with_15_minutes() -> None:
    a = analysis(Sentiment.NEGATIVE, -0.9, Intent.BILLING_DISPUTE, urgency=Urgency.HIGH)
    t = triage(a, lead_score(a, QUIET), AT)
    assert t.priority is Priority.CRITICAL
    assert t.sla_due_at == AT + timedelta(minutes=15)


def test_a_calm_low_urgency_dispute_is_still_at_least_high() -> None:
    a = analysis(Sentiment.NEUTRAL, 0.0, Intent.BILLING_DISPUTE, urgency=Urgency.LOW)
    assert triage(a, lead_score(a, QUIET), AT).priority is Priority.HIGH


def test_a_hot_lead_is_never_left_at_low() -> None:
    a = analysis(Sentiment.POSITIVE, 0.9, Intent.PURCHASE_INTEREST, 1.0, Urgency.LOW)
    engaged = Engagement(inbound_messages=6, outbound_messages=2, replied_to_agent=True)
    t = triage(a, lead_score(a, engaged), AT)
    assert t.priority is Priority.MEDIUM and "hot_lead" in t.reasons


def test_corrected_labels_are_certain_and_flip_the_sentiment_score_sign() -> None:
    model = analysis(Sentiment.POSITIVE, 0.7, Intent.COMPLAINT, confidence=0.4)
    corrected = with_corrected_labels(model, Sentiment.NEGATIVE, Intent.PURCHASE_INTEREST)
    assert (corrected.intent, corrected.intent_confidence) == (Intent.PURCHASE_INTEREST, 1.0)
    assert (corrected.sentiment, corrected.sentiment_score) == (Sentiment.NEGATIVE, -0.6)
    # an agreeing sentiment keeps the model's magnitude
    assert with_corrected_labels(model, Sentiment.POSITIVE, None).sentiment_score == 0.7
