"""Opt-out and opt-in detection in pt-BR replies: keywords, clear requests, and what must not match."""

from __future__ import annotations

import pytest

from ponte.domain.campaigns.opt_out import (
    DEFAULT_OPT_OUT_WORDS,
    MAX_SCANNED_CHARS,
    detect_opt_in,
    detect_opt_out,
    normalize,
    normalize_words,
)


@pytest.mark.parametrize(
    "text",
    ["SAIR", "sair", "Sair.", "  PARAR!!! ", "STOP", "Cancelar", "cancelar 👋", "não quero mais", "NAO QUERO MAIS",
     "Não quero mais.", "remover", "Descadastrar", "pare", "cancelar assinatura", "Sáir"],
)  # fmt: skip
def test_keywords_as_the_whole_reply_opt_out(text: str) -> None:
    match = detect_opt_out(text)
    assert match is not None and match.kind == "keyword"


@pytest.mark.parametrize(
    "text",
    [
        "Por favor, não quero mais receber essas mensagens",
        "pare de me mandar mensagem",
        "Parem de enviar isso!!",
        "me tira da lista por favor",
        "Remova meu número",
        "quero me descadastrar",
        "gostaria de sair da lista",
        "não me mande mais nada",
        "Não enviem mais, obrigado",
        "favor cancelar o recebimento",
        "Me descadastra aí",
        "exclua meu contato",
        "não tenho interesse nessas mensagens",
        "NÃO QUERO RECEBER PROMOÇÃO",
    ],
)
def test_clear_requests_opt_out_anywhere_in_the_reply(text: str) -> None:
    match = detect_opt_out(text)
    assert match is not None and match.kind == "clear_request"


@pytest.mark.parametrize(
    "text",
    [
        None,
        "",
        "   ",
        "👍",
        "obrigado!",
        "quero sair às 18h, pode ser?",
        "não consigo parar de rir",
        "cancelar meu pedido de ontem",
        "quero cancelar a compra",
        "stop motion é demais",
        "sair de casa agora",
        "não quero sair da lista",
        "não",
        "pode mandar o boleto",
        "qual o valor?",
    ],
)
def test_ordinary_replies_do_not_opt_out(text: str | None) -> None:
    assert detect_opt_out(text) is None


def test_a_tenant_word_list_replaces_the_keywords_but_not_the_clear_requests() -> None:
    words = ("chega", "  BASTA! ")
    assert detect_opt_out("Chega") is None
    assert detect_opt_out("chega", words) is not None
    assert detect_opt_out("basta", words) is not None
    assert detect_opt_out("SAIR", words) is None  # the tenant chose its own words
    assert detect_opt_out("pare de me mandar mensagem", words) is not None


def test_normalization_is_accent_and_punctuation_insensitive() -> None:
    assert normalize("  NÃO   quero, mais!! ") == "nao quero mais"
    assert normalize("Ação\u0301") == "acao"
    assert normalize_words(["SAIR", "sair!", "", "  ", "Parar"]) == ("sair", "parar")
    assert "nao quero mais" in normalize_words(list(DEFAULT_OPT_OUT_WORDS))


def test_a_huge_reply_is_scanned_only_at_its_start() -> None:
    text = "a" * (MAX_SCANNED_CHARS + 10) + " pare de me mandar mensagem"
    assert detect_opt_out(text) is None
    assert detect_opt_out("pare de me mandar mensagem " + "a" * 10_000) is not None


@pytest.mark.parametrize("text", ["ASSINAR", "assinar!", "Quero receber", "retomar", "voltar a receber"])
def test_opt_in_words(text: str) -> None:
    assert detect_opt_in(text)


@pytest.mark.parametrize("text", [None, "", "sim", "oi", "quero receber o boleto", "assinar o contrato"])
def test_not_opt_in(text: str | None) -> None:
    assert not detect_opt_in(text)
