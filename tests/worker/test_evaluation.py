"""``ponte eval``'s metrics and file handling."""

from __future__ import annotations

from pathlib import Path

import pytest

from inference_worker.evaluation import SENTIMENTS, Item, Report, detect_task, load_items, percentile
from inference_worker.labels import Labeler, default_labeler
from inference_worker.labels.memory import HERE, load_examples
from ponte.cli.eval import with_examples
from ponte.domain.analysis import Intent

CANDIDATES = HERE / "candidate_examples.jsonl"

pytestmark = pytest.mark.unit


def test_macro_f1_per_class_f1_and_confusion() -> None:
    # GIVEN 4 items: 2 right, a positive taken for neutral, a negative taken for positive
    report = Report(task="sentiment", classes=SENTIMENTS)
    for gold, predicted in [
        ("positive", "positive"),
        ("negative", "negative"),
        ("positive", "neutral"),
        ("negative", "positive"),
    ]:
        report.add(Item("t", gold), predicted, 1.0)
    # THEN F1(positive) = 2*1/(2+1+1) = 0.5, F1(negative) = 2/(2+0+1) = 0.667; neutral is not a gold class
    assert report.accuracy == 0.5
    assert report.f1("positive") == pytest.approx(0.5)
    assert report.f1("negative") == pytest.approx(2 / 3)
    assert report.macro_f1 == pytest.approx((0.5 + 2 / 3) / 2)
    assert report.confusion()["positive"] == {"negative": 0, "neutral": 1, "positive": 1}
    assert "macro_f1=0.583" in report.render()


def test_also_ok_counts_as_right() -> None:
    report = Report(task="intent", classes=("complaint", "billing_dispute", "other"))
    report.add(Item("t", "complaint", frozenset({"billing_dispute"})), "billing_dispute", 1.0)
    assert report.accuracy == 1.0


def test_task_is_detected_from_the_labels(tmp_path: Path) -> None:
    sentiment = tmp_path / "s.jsonl"
    sentiment.write_text('{"text": "a", "label": "positive"}\n{"text": "b", "label": "neutral"}\n')
    intent = tmp_path / "i.jsonl"
    intent.write_text('{"text": "a", "label": "complaint", "also_ok": ["billing_dispute"]}\n')
    mixed = tmp_path / "m.jsonl"
    mixed.write_text('{"text": "a", "label": "positive"}\n{"text": "b", "label": "complaint"}\n')
    assert detect_task(load_items(sentiment)) == "sentiment"
    assert detect_task(load_items(intent)) == "intent"
    with pytest.raises(ValueError, match="neither"):
        detect_task(load_items(mixed))


def test_a_malformed_line_names_its_line(tmp_path: Path) -> None:
    path = tmp_path / "bad.jsonl"
    path.write_text('{"text": "a", "label": "positive"}\n{"text": "b"}\n')
    with pytest.raises(ValueError, match=r"bad.jsonl:2"):
        load_items(path)


def test_percentile_nearest_rank() -> None:
    values = [float(v) for v in range(1, 101)]
    assert (percentile(values, 50), percentile(values, 95)) == (50.0, 95.0)


def test_extra_examples_join_the_memory_for_that_run_only(labeler: Labeler, tmp_path: Path) -> None:
    # GIVEN a candidate set teaching a made-up product's name as a billing dispute
    extra = tmp_path / "candidates.jsonl"
    lines = [
        f'{{"text": "{t}", "sentiment": "negative", "intent": "billing_dispute"}}'
        for t in ("zorbax cobrou", "o zorbax me cobrou", "zorbax de novo cobrado", "zorbax cobrança", "cobrou zorbax")
    ]
    extra.write_text("\n".join(lines) + "\n")
    # WHEN the labeler is extended with it
    extended = with_examples(labeler, extra)
    # THEN its memory holds both, the name is labelled as taught, and the shipped labeler is untouched
    assert len(extended.base) == len(labeler.base) + 5
    assert extended.label("zorbax cobrou de novo").intent is Intent.BILLING_DISPUTE
    assert len(default_labeler().base) == len(labeler.base)
    assert with_examples(labeler, None) is labeler


def test_a_malformed_candidate_file_is_a_clear_error(labeler: Labeler, tmp_path: Path) -> None:
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"text": "oi", "intent": "not_an_intent"}\n')
    with pytest.raises(ValueError, match="intent"):
        with_examples(labeler, bad)
    empty = tmp_path / "empty.jsonl"
    empty.write_text("\n")
    with pytest.raises(ValueError, match="no examples"):
        with_examples(labeler, empty)


def test_the_candidate_examples_are_well_formed_and_new() -> None:
    """The measured-but-not-kept candidate set (README, issue 20) loads and repeats no shipped example."""
    shipped = {e.text.casefold() for e in load_examples()}
    candidates = load_examples(CANDIDATES)
    assert len(candidates) > 500
    assert not {e.text.casefold() for e in candidates} & shipped
