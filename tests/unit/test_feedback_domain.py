"""Corrections need a label; a sent suggestion is as_is unless its text changed."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from ponte.domain.analysis import Intent
from ponte.domain.feedback import CorrectionRequest, DiscardRequest, SuggestionOutcome, outcome_of

pytestmark = pytest.mark.unit


def test_whitespace_alone_does_not_make_an_edit() -> None:
    assert outcome_of("Oi! Temos sim.", "  Oi!  Temos sim.\n") is SuggestionOutcome.AS_IS
    assert outcome_of("Oi! Temos sim.", "Oi Maria! Temos sim.") is SuggestionOutcome.EDITED


def test_a_correction_needs_at_least_one_known_label() -> None:
    assert CorrectionRequest.model_validate({"intent": "complaint"}).intent is Intent.COMPLAINT
    for bad in ({}, {"intent": "buy"}, {"sentiment": "angry"}, {"intent": "complaint", "extra": 1}):
        with pytest.raises(ValidationError):
            CorrectionRequest.model_validate(bad)


def test_the_ui_may_only_discard() -> None:
    assert DiscardRequest.model_validate({}).outcome is SuggestionOutcome.DISCARDED
    with pytest.raises(ValidationError):
        DiscardRequest.model_validate({"outcome": "as_is"})
