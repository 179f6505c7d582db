"""Campaign texts: variables in pt-BR, the opt-out instruction, variants, the Cloud template's
parameters, the model rewrite's checks, automatic pauses and the campaign's states."""

from __future__ import annotations

from collections import Counter
from datetime import date
from decimal import Decimal

import pytest
from pydantic import ValidationError

from ponte.domain.campaigns.auto_pause import AutoPauseRules, SendOutcome, pause_reason
from ponte.domain.campaigns.lifecycle import (
    CampaignStateError,
    CampaignStatus,
    Command,
    allowed_commands,
    next_status,
)
from ponte.domain.campaigns.message import (
    DEFAULT_OPT_OUT_INSTRUCTION,
    CampaignMessage,
    CloudTemplate,
    DiversityError,
    RecipientValues,
    diversify,
    first_name,
    format_amount,
    format_date,
    missing_variables,
    placeholders,
    render,
    template_parameters,
    with_opt_out,
)
from ponte.domain.campaigns.rewrite import RewriteRules, rewrite_violations

BILL = "Olá {{nome}}, sua fatura de {{valor}} vence em {{vencimento}}. Pague em {{link}}"
MARIA = RecipientValues(
    name="maria da silva", due_date=date(2026, 12, 5), amount=Decimal("1234.5"), link="https://pg.example/x1"
)


def test_variables_render_in_pt_br() -> None:
    assert render(BILL, MARIA) == (
        "Olá Maria, sua fatura de R$ 1.234,50 vence em 05/12/2026. Pague em https://pg.example/x1"
    )
    assert render("{{ nome_completo }}!", RecipientValues(name="  Ana   Paula  ")) == "Ana Paula!"
    assert format_amount(Decimal("0")) == "R$ 0,00"
    assert format_amount(Decimal("1000000.999")) == "R$ 1.000.001,00"
    assert format_date(date(2027, 1, 2)) == "02/01/2027"
    assert first_name("  joão  pedro") == "João" and first_name("   ") == ""
    assert placeholders("{{a}} {{ b }} {{a}}") == ("a", "b")
    with pytest.raises(KeyError):
        render("Oi {{nome}}", RecipientValues())


def test_missing_values_use_the_campaign_defaults() -> None:
    message = CampaignMessage(variants=(BILL,), defaults=RecipientValues(link="https://loja.example/pagar"))
    assert set(missing_variables(message, RecipientValues())) == {"nome", "valor", "vencimento"}
    assert missing_variables(message, MARIA.model_copy(update={"link": None})) == ()
    assert RecipientValues(name="Ana").merged(message.defaults).link == "https://loja.example/pagar"
    assert RecipientValues(amount=Decimal(0)).merged(RecipientValues(amount=Decimal(5))).amount == 0


@pytest.mark.parametrize(
    "kwargs",
    [
        {"variants": ()},
        {"variants": ("a",) * 6},
        {"variants": ("Oi {{cpf}}",)},
        {"variants": ("   ",)},
        {"variants": ("x" * 1001,)},
        {"variants": ("ok",), "cloud_template": {"name": "Bad Name"}},
        {"variants": ("ok",), "cloud_template": {"name": "ok", "body_parameters": ["cpf"]}},
        {"variants": ("ok",), "defaults": {"link": "javascript:alert(1)"}},
        {"variants": ("ok",), "defaults": {"amount": "-1"}},
        {"variants": ("ok",), "personalize": "gpt"},
        {"variants": ("ok",), "surprise": True},
    ],
)
def test_invalid_messages_are_refused(kwargs: dict[str, object]) -> None:
    with pytest.raises(ValidationError):
        CampaignMessage.model_validate(kwargs)


def test_the_cloud_template_takes_its_parameters_in_order() -> None:
    template = CloudTemplate(name="lembrete_fatura", body_parameters=("nome", "valor", "vencimento"))
    message = CampaignMessage(variants=("Olá {{nome}}",), cloud_template=template)
    assert message.required() == ("nome", "valor", "vencimento")
    assert template_parameters(template, MARIA) == ("Maria", "R$ 1.234,50", "05/12/2026")
    with pytest.raises(KeyError):
        template_parameters(template, RecipientValues(name="Ana"))


def test_the_opt_out_instruction_is_appended_once() -> None:
    body = with_opt_out("Oi Ana", DEFAULT_OPT_OUT_INSTRUCTION)
    assert body == f"Oi Ana\n\n{DEFAULT_OPT_OUT_INSTRUCTION}"
    assert with_opt_out(body, DEFAULT_OPT_OUT_INSTRUCTION) == body
    assert with_opt_out("Oi", "   ") == "Oi"


def test_no_two_hundred_recipients_get_an_identical_body() -> None:
    bodies = diversify(["Promoção de Natal!"] * 1000 + ["Outra"] * 3, 199)
    counts = Counter(bodies)
    assert max(counts.values()) <= 199 and len(bodies) == 1003
    assert counts["Promoção de Natal!"] == 199 and counts["Outra"] == 3
    assert all("Promoção de Natal!" in b for b in bodies[:1000])
    assert diversify(["a"] * 500, None) == ["a"] * 500
    assert max(Counter(diversify(["x"] * 30, 1)).values()) == 1
    with pytest.raises(DiversityError):
        diversify(["x"] * 31, 1)


def test_rewrite_checks() -> None:
    original = render(BILL, MARIA)
    good = "Maria, lembrete: a fatura de R$ 1.234,50 vence em 05/12/2026. Pague aqui: https://pg.example/x1"
    assert rewrite_violations(original, good) == []
    assert rewrite_violations(original, "") == ["empty"]
    assert "too_long" in rewrite_violations(original, good + " ok" * 400)
    assert "links_changed" in rewrite_violations(original, good.replace("x1", "x2"))
    assert "links_changed" in rewrite_violations(original, good.replace(" https://pg.example/x1", ""))
    assert "numbers_changed" in rewrite_violations(original, good.replace("05/12", "06/12"))
    assert "numbers_changed" in rewrite_violations(original, good + " Ganhe 10% off")
    assert "placeholder_left" in rewrite_violations(original, good + " {{nome}}")
    assert "forbidden:garantid" in rewrite_violations(original, good + " Aprovação garantida!")
    assert "forbidden:gratis" in rewrite_violations(original, good + " Frete GRÁTIS")
    # a promise the approved text makes itself is not invented
    promo = "Frete grátis hoje em https://loja.example"
    assert rewrite_violations(promo, "Hoje o frete é grátis: https://loja.example") == []
    tenant = RewriteRules(forbidden=("sorteio",), max_chars=100)
    assert rewrite_violations("Oi", "Oi, participe do Sorteio", tenant) == ["forbidden:sorteio"]


def test_pause_rules() -> None:
    ok, fail = SendOutcome(), SendOutcome(error_code="gateway_rejected")
    assert pause_reason([]) is None
    assert pause_reason([ok] * 30) is None
    meta = pause_reason([ok, SendOutcome(error_code="spam_rate_limited")])
    assert meta is not None and meta.code == "meta_limit"
    assert pause_reason([SendOutcome(error_code="marketing_limit")]) is not None
    assert pause_reason([SendOutcome(error_code="session_not_logged")]).code == "instance_disconnected"  # type: ignore[union-attr]
    down = SendOutcome(error_code="gateway_unavailable")
    assert pause_reason([ok, down, down]) is None
    assert pause_reason([ok, down, down, down]).code == "instance_unreachable"  # type: ignore[union-attr]
    assert pause_reason([fail] * 3 + [ok] * 7) is None  # 30 % is not above 30 %
    assert pause_reason([fail] * 4 + [ok] * 6).code == "failure_rate"  # type: ignore[union-attr]
    assert pause_reason([fail] * 9) is None  # too few to judge
    opted = SendOutcome(error_code="marketing_opt_out")
    assert pause_reason([opted] * 20) is None  # the users' choice, not a failing campaign
    assert pause_reason([fail] * 4 + [ok] * 40, AutoPauseRules(window=10)) is None


def test_campaign_states() -> None:
    S, C = CampaignStatus, Command
    assert next_status(S.DRAFT, C.APPROVE) is S.APPROVED
    assert next_status(S.APPROVED, C.EDIT) is S.DRAFT  # editing voids the approval
    assert next_status(S.APPROVED, C.START) is S.RUNNING
    assert next_status(S.RUNNING, C.PAUSE) is S.PAUSED and next_status(S.PAUSED, C.RESUME) is S.RUNNING
    assert next_status(S.RUNNING, C.AUTO_PAUSE) is S.PAUSED
    assert next_status(S.RUNNING, C.COMPLETE) is S.COMPLETED
    for status in (S.DRAFT, S.APPROVED, S.RUNNING, S.PAUSED):
        assert next_status(status, C.CANCEL) is S.CANCELLED
    for status, command in [(S.DRAFT, C.START), (S.RUNNING, C.APPROVE), (S.RUNNING, C.EDIT), (S.PAUSED, C.PAUSE),
                            (S.COMPLETED, C.CANCEL), (S.CANCELLED, C.RESUME), (S.PAUSED, C.COMPLETE)]:  # fmt: skip
        with pytest.raises(CampaignStateError) as caught:
            next_status(status, command)
        assert caught.value.code == f"campaign_{status.value}"
    assert allowed_commands(S.DRAFT) == (C.EDIT, C.PREVIEW, C.APPROVE, C.CANCEL)
    assert allowed_commands(S.RUNNING) == (C.PREVIEW, C.PAUSE, C.CANCEL)
    assert allowed_commands(S.COMPLETED) == ()
