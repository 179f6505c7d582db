"""Reply suggestions from a GGUF model through llama.cpp, constrained to :class:`ReplyDraft` JSON.

The prompt puts everything static first (instructions, two worked examples) and the
customer's message last, so llama.cpp reuses the cached prefix and evaluates only the
new tokens. Generation is bounded three ways: the grammar, ``max_tokens`` and a wall-clock
deadline (checked while streaming). Anything that does not parse is repaired or dropped;
the caller then falls back to a template.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from inference_worker.labels.labeler import Labels
from inference_worker.llm.draft import MAX_TOKENS, Draft, ReplyDraft, parse
from inference_worker.llm.gguf import resolve_model_path
from inference_worker.llm.grammar import gbnf_for
from inference_worker.settings import WorkerSettings

logger = logging.getLogger(__name__)

SYSTEM = (
    "Você é atendente de uma loja no WhatsApp. Escreva uma sugestão de resposta curta, educada e em "
    "português do Brasil para a mensagem do cliente. Não invente preços, prazos nem promessas. "
    'Responda só com JSON no formato {"reply": "..."}.'
)
EXAMPLES = (
    (
        "Intenção: complaint. Sentimento: negative.\nCliente: meu pedido veio com a tampa quebrada",
        '{"reply": "Sinto muito pelo problema! Pode me mandar uma foto da tampa e o número do pedido? Vou resolver."}',
    ),
    (
        "Intenção: purchase_interest. Sentimento: neutral.\nCliente: tem a camiseta preta no tamanho M?",
        '{"reply": "Olá! Vou conferir o estoque da camiseta preta no M e já te aviso."}',
    ),
)
TEMPERATURE = 0.3
REPEAT_PENALTY = 1.15
SEED = 7


def user_turn(text: str, labels: Labels, contact_name: str | None) -> str:
    who = f"Cliente ({contact_name.strip()[:40]})" if contact_name and contact_name.strip() else "Cliente"
    return f"Intenção: {labels.intent}. Sentimento: {labels.sentiment}.\n{who}: {text}"


class ReplyWriter:
    def __init__(self, settings: WorkerSettings) -> None:
        self.settings = settings
        self._llm: Any = None
        self._grammar: Any = None

    def load(self) -> None:
        if self._llm is not None:
            return
        from llama_cpp import Llama
        from llama_cpp.llama_grammar import LlamaGrammar

        started = time.perf_counter()
        self._llm = Llama(
            model_path=str(resolve_model_path(self.settings.model_path)),
            n_ctx=self.settings.n_ctx,
            n_threads=1,
            n_threads_batch=1,
            seed=SEED,
            verbose=False,
        )
        self._grammar = LlamaGrammar.from_string(gbnf_for(ReplyDraft), verbose=False)
        # evaluate the static prefix once so the first real request hits the cache
        self._complete(self._messages("oi"), max_tokens=1, deadline=time.monotonic() + 30)
        logger.info("model loaded and prefix cached in %.2fs", time.perf_counter() - started)

    @staticmethod
    def _messages(user: str) -> list[dict[str, str]]:
        messages = [{"role": "system", "content": SYSTEM}]
        for question, answer in EXAMPLES:
            messages += [{"role": "user", "content": question}, {"role": "assistant", "content": answer}]
        messages.append({"role": "user", "content": user})
        return messages

    def _complete(self, messages: list[dict[str, str]], *, max_tokens: int, deadline: float) -> tuple[str, str]:
        return self.complete(messages, max_tokens=max_tokens, deadline=deadline)

    def complete(
        self, messages: list[dict[str, str]], *, max_tokens: int, deadline: float, grammar: Any = None
    ) -> tuple[str, str]:
        """Stream a completion (the reply grammar unless another is given); returns (text, finish)
        with finish in stop / length / timeout."""
        chunks: list[str] = []
        finish = "stop"
        stream = self._llm.create_chat_completion(
            messages=messages,
            grammar=grammar or self._grammar,
            max_tokens=max_tokens,
            temperature=TEMPERATURE,
            repeat_penalty=REPEAT_PENALTY,
            seed=SEED,
            stream=True,
        )
        for chunk in stream:
            choice = chunk["choices"][0]
            chunks.append(choice["delta"].get("content") or "")
            if choice.get("finish_reason"):
                finish = choice["finish_reason"]
            if time.monotonic() > deadline:
                finish = "timeout"
                break
        return "".join(chunks), finish

    def write(self, text: str, labels: Labels, contact_name: str | None) -> Draft:
        try:
            self.load()
            deadline = time.monotonic() + self.settings.llm_timeout_seconds
            raw, finish = self._complete(
                self._messages(user_turn(text, labels, contact_name)), max_tokens=MAX_TOKENS, deadline=deadline
            )
        except Exception:
            logger.exception("LLM generation failed")
            return Draft(None, "error")
        if finish == "timeout":
            return Draft(None, "timeout")
        reply = parse(raw, truncated=finish == "length")
        return Draft(reply, None) if reply else Draft(None, "invalid")
