"""Campaign rewrites from the GGUF model (the same llama.cpp instance as the replies), constrained
to ``{"text": "..."}`` JSON and length-capped. The worker only writes: the caller checks the text
against the facts and the forbidden promises (``ponte.domain.campaigns.rewrite``) before using it."""

from __future__ import annotations

import json
import logging
import time
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from inference_worker.llm.grammar import gbnf_for
from inference_worker.llm.writer import ReplyWriter

logger = logging.getLogger(__name__)

MAX_REWRITE_CHARS = 600
SYSTEM = (
    "Você reescreve mensagens de uma empresa para um cliente no WhatsApp, em português do Brasil. "
    "Mantenha exatamente os mesmos fatos, valores, datas e links. Não acrescente promessas, descontos, "
    'prazos nem números. Seja breve e cordial. Responda só com JSON no formato {"text": "..."}.'
)
EXAMPLE = (
    "Cliente: Maria. Mensagem: Olá Maria! Amanhã teremos manutenção na rede das 2h às 4h.",
    '{"text": "Oi, Maria! Aviso: amanhã haverá manutenção na rede das 2h às 4h."}',
)


class RewriteDraft(BaseModel):
    model_config = ConfigDict(extra="forbid")

    text: str = Field(min_length=1, max_length=MAX_REWRITE_CHARS)


class CampaignRewriter:
    def __init__(self, writer: ReplyWriter) -> None:
        self._writer = writer
        self._grammar: Any = None

    def rewrite(self, text: str, name: str | None, max_chars: int) -> str | None:
        """The model's rewrite, or None (it failed, ran out of time, or wrote past ``max_chars``)."""
        try:
            self._writer.load()
            if self._grammar is None:
                from llama_cpp.llama_grammar import LlamaGrammar

                self._grammar = LlamaGrammar.from_string(gbnf_for(RewriteDraft), verbose=False)
            who = f"Cliente: {name.strip()[:40]}. " if name and name.strip() else ""
            messages = [
                {"role": "system", "content": SYSTEM},
                {"role": "user", "content": EXAMPLE[0]},
                {"role": "assistant", "content": EXAMPLE[1]},
                {"role": "user", "content": f"{who}Mensagem: {text}"},
            ]
            deadline = time.monotonic() + self._writer.settings.llm_timeout_seconds
            tokens = min(MAX_REWRITE_CHARS, max_chars) // 2 + 40
            raw, finish = self._writer.complete(messages, max_tokens=tokens, deadline=deadline, grammar=self._grammar)
        except Exception:
            logger.exception("campaign rewrite failed")
            return None
        if finish != "stop":
            return None
        try:
            draft = RewriteDraft.model_validate(json.loads(raw))
        except (ValueError, ValidationError):
            return None
        rewritten = " ".join(draft.text.split())
        return rewritten if 0 < len(rewritten) <= max_chars else None
