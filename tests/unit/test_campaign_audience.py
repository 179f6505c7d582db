"""Campaign audiences: segments as data, CSV uploads (every row accounted for), exclusions by reason."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from ponte.domain.campaigns.audience import (
    MAX_REPORTED_ROWS,
    AudienceSpec,
    Candidate,
    CsvError,
    Segment,
    parse_amount,
    parse_csv,
    parse_day,
    select_audience,
)
from ponte.domain.campaigns.message import CampaignMessage, RecipientValues


def test_segment_filters_are_validated() -> None:
    Segment(lead_stages=("new", "open"), score_min=40, score_max=90, tags_any=("vip",),
            last_contact_after=datetime(2026, 1, 1, tzinfo=UTC))  # fmt: skip
    for bad in (
        {"score_min": 90, "score_max": 10},
        {"score_min": 101},
        {"lead_stages": ["maybe"]},
        {"lead_sources": ["tv"]},
        {"tags_any": [""]},
        {"tags_any": ["x" * 41]},
        {"tags_any": ["t"] * 21},
        {"last_contact_after": "2026-01-01T00:00:00"},  # no offset
        {"last_contact_after": "2026-02-01T00:00:00Z", "last_contact_before": "2026-01-01T00:00:00Z"},
        {"source": "customers", "lead_stages": ["new"]},
        {"source": "everyone"},
        {"unknown": 1},
    ):
        with pytest.raises(ValidationError):
            Segment.model_validate(bad)
    assert Segment(source="customers").source == "customers"
    with pytest.raises(ValidationError):
        AudienceSpec(kind="segment")
    with pytest.raises(ValidationError):
        AudienceSpec(kind="csv", segment=Segment())


def test_csv_phones_in_any_form_with_values_and_every_bad_row_reported() -> None:
    text = (
        "Telefone;Nome;Vencimento;Valor;Link\n"
        "(11) 98765-4321;Maria Silva;05/12/2026;R$ 1.234,56;https://pg.example/1\n"
        "5511987654322;João;2026-12-06;99,90;\n"
        "+55 21 8765-4323;Ana;;;\n"  # 8-digit mobile: the 9th digit is added
        "12345;Zé;;;\n"
        "11987654321;Maria de novo;;;\n"  # the same number as row 2
        "11987654324;Bia;31/02/2026;;\n"
        "11987654325;Caio;;dez reais;\n"
        "11987654326;Duda;;;ftp://x\n"
        ";;;;\n"
        "  ;Sem telefone;;;\n"
    )
    parsed = parse_csv(text)
    assert [r.phone_e164 for r in parsed.rows] == ["+5511987654321", "+5511987654322", "+5521987654323"]
    first = parsed.rows[0]
    assert first.row == 2 and first.values.name == "Maria Silva" and first.values.amount == Decimal("1234.56")
    assert first.values.due_date == date(2026, 12, 5) and first.values.link == "https://pg.example/1"
    assert parsed.rows[1].values.amount == Decimal("99.90")
    reasons = {(i.row, i.reason) for i in parsed.invalid}
    assert reasons == {(5, "invalid_phone"), (6, "duplicate"), (7, "invalid_date"), (8, "invalid_amount"),
                       (9, "invalid_link"), (11, "empty")}  # fmt: skip
    assert parsed.total_rows == 9 and sum(parsed.invalid_counts.values()) + len(parsed.rows) == parsed.total_rows


def test_csv_without_header_comma_and_tab_separated() -> None:
    assert [r.phone_e164 for r in parse_csv("11987654321\n(21) 98765-4321\n").rows] == [
        "+5511987654321",
        "+5521987654321",
    ]
    assert parse_csv("11987654321,Ana\n11987654322,Bia\n").rows[1].values.name == "Bia"
    assert parse_csv("celular\tnome\n11987654321\tAna\n").rows[0].values.name == "Ana"
    assert parse_csv("\ufeffwhatsapp\n11987654321\n").rows[0].phone_e164 == "+5511987654321"


@pytest.mark.parametrize(
    "text",
    ["", "   \n", "nome,email\nAna,a@x.com\n", "telefone\n123\n", "nome\nAna\n", "a" * (2 * 1024 * 1024 + 1)],
)
def test_unreadable_csvs(text: str) -> None:
    with pytest.raises(CsvError):
        parse_csv(text)


def test_csv_row_limits() -> None:
    with pytest.raises(CsvError, match="more than 3 rows"):
        parse_csv("telefone\n" + "11987654321\n" * 4, max_rows=3)
    many_bad = parse_csv("telefone\n11987654321\n" + "123\n" * (MAX_REPORTED_ROWS + 50))
    assert len(many_bad.invalid) == MAX_REPORTED_ROWS and many_bad.invalid_counts == {"invalid_phone": 150}


@given(st.text(max_size=300))
@settings(max_examples=200, deadline=None)
def test_any_text_parses_or_is_refused_cleanly(text: str) -> None:
    try:
        parsed = parse_csv("telefone,nome\n" + text)
    except CsvError:
        return
    assert sum(parsed.invalid_counts.values()) + len(parsed.rows) == parsed.total_rows


@pytest.mark.parametrize(
    ("text", "value"),
    [("1.234,56", "1234.56"), ("R$ 99,9", "99.90"), ("80", "80.00"), ("1234.5", "1234.50"), ("r$1.000", "1000.00")],
)
def test_amounts(text: str, value: str) -> None:
    assert parse_amount(text) == Decimal(value)


@pytest.mark.parametrize("text", ["", "dez", "1,2,3", "-5", "1.23.4", "9" * 12])
def test_not_amounts(text: str) -> None:
    assert parse_amount(text) is None


def test_days() -> None:
    assert parse_day("05/12/2026") == parse_day("2026-12-05") == parse_day("5/12/26") == date(2026, 12, 5)
    assert parse_day("31/02/2026") is None and parse_day("amanhã") is None


def test_exclusions_are_counted_by_reason() -> None:
    message = CampaignMessage(variants=("Oi {{nome}}",))
    candidates = [
        Candidate(contact_id="c1", phone_e164="+5511900000001", values=RecipientValues(name="Ana")),
        Candidate(contact_id="c2", phone_e164=None, values=RecipientValues(name="Lid")),  # @lid only
        Candidate(contact_id="c3", phone_e164="+5511900000003", values=RecipientValues(name="Oculta")),
        Candidate(contact_id="c4", phone_e164="+5511900000004", values=RecipientValues(name="Saiu")),
        Candidate(contact_id="c5", phone_e164="+5511900000001", values=RecipientValues(name="Ana 2")),
        Candidate(contact_id="c6", phone_e164="+5511900000006"),  # no name for {{nome}}
        Candidate(customer_id="e7", phone_e164="+5511900000007", values=RecipientValues(name="Bia")),
    ]
    audience = select_audience(
        candidates,
        message,
        hidden=frozenset({"+5511900000003", "5511900000003@s.whatsapp.net"}),
        is_opted_out=lambda phone: phone == "+5511900000004",
        invalid_rows={"invalid_phone": 2},
    )
    assert [r.phone_e164 for r in audience.recipients] == ["+5511900000001", "+5511900000007"]
    assert [r.ordinal for r in audience.recipients] == [0, 1]
    assert audience.recipients[1].customer_id == "e7"
    assert audience.report.excluded == {"no_phone": 1, "hidden": 1, "opted_out": 1, "duplicate": 1,
                                        "missing_variable": 1}  # fmt: skip
    assert audience.report.candidates == 7 and audience.report.recipients == 2
    assert audience.report.invalid_rows == {"invalid_phone": 2}
