"""``ponte eval``'s metrics and file handling."""

from __future__ import annotations

from pathlib import Path

import pytest

from inference_worker.evaluation import SENTIMENTS, Item, Report, detect_task, load_items, percentile

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
