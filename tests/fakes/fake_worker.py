"""A stand-in inference worker: a real HTTP server on loopback speaking the worker's contract
(``POST /v1/analyze`` with a bearer token, ``GET /health``), used until the real worker runs
in the local stack.

Labels come from the fast-path rules; a tenant's examples are honoured the way a
nearest-neighbour memory does it: the example whose words overlap the message most (Jaccard
>= ``threshold``) gives its labels. Replies come from intent-keyed templates.
"""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from ponte.domain.analysis import Analysis, AnalyzeRequest, Intent, LabeledExample, Sentiment
from ponte.domain.fast_labels import WORD, fast_analysis, normalize

REPLIES = {
    Intent.PURCHASE_INTEREST: "Oi! Temos sim. Quer que eu te passe os valores e as opções?",
    Intent.SUPPORT_REQUEST: "Oi! Vou te ajudar com isso. Pode me contar um pouco mais?",
    Intent.BILLING_PAYMENT: "Obrigado! Vou conferir o pagamento e já te retorno.",
    Intent.BILLING_NEGOTIATION: "Claro, vamos ver a melhor condição para você.",
    Intent.BILLING_DISPUTE: "Sinto muito pelo transtorno. Vou verificar a cobrança agora mesmo.",
    Intent.COMPLAINT: "Sinto muito pelo ocorrido. Vou resolver isso com prioridade.",
    Intent.GREETING: "Oi! Tudo bem? Como posso ajudar?",
    Intent.OTHER: "Oi! Como posso ajudar?",
}


def _words(text: str) -> set[str]:
    return set(WORD.findall(normalize(text)))


def nearest(text: str, examples: tuple[LabeledExample, ...], threshold: float) -> LabeledExample | None:
    words = _words(text)
    best, best_sim = None, 0.0
    for example in examples:
        other = _words(example.text)
        sim = len(words & other) / len(words | other) if words | other else 0.0
        if sim > best_sim:
            best, best_sim = example, sim
    return best if best_sim >= threshold else None


def analyze(request: AnalyzeRequest, threshold: float) -> Analysis:
    base = fast_analysis(request.text, 0.0)
    example = nearest(request.text, request.examples, threshold)
    intent, sentiment, score = base.intent, base.sentiment, base.sentiment_score
    if example is not None:
        intent = example.intent or intent
        if example.sentiment is not None and example.sentiment is not sentiment:
            sentiment = example.sentiment
            score = {Sentiment.POSITIVE: 0.6, Sentiment.NEUTRAL: 0.0, Sentiment.NEGATIVE: -0.6}[sentiment]
    return base.model_copy(
        update={
            "intent": intent,
            "sentiment": sentiment,
            "sentiment_score": score,
            "suggested_reply": REPLIES[intent] if request.want_reply else None,
            "reply_source": "template" if request.want_reply else "none",
            "labels_source": "fake-worker",
            "model": "fake-worker",
            "degraded": False,
        }
    )


class FakeWorker:
    def __init__(self, token: str, *, port: int = 0, threshold: float = 0.5) -> None:
        self.token = token
        self.port = port
        self.threshold = threshold
        self.requests: list[AnalyzeRequest] = []
        self._server: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> FakeWorker:
        worker = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:  # quiet: message texts must not reach logs
                pass

            def _send(self, status: int, body: Any) -> None:
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self) -> None:
                self._send(200, {"ok": True}) if self.path == "/health" else self._send(404, {"code": "not_found"})

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length)
                if self.headers.get("Authorization") != f"Bearer {worker.token}":
                    self._send(401, {"code": "unauthorized"})
                    return
                if self.path != "/v1/analyze":
                    self._send(404, {"code": "not_found"})
                    return
                request = AnalyzeRequest.model_validate_json(body)
                worker.requests.append(request)
                self._send(200, analyze(request, worker.threshold).model_dump(mode="json"))

        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self.port = self._server.server_address[1]
        threading.Thread(target=self._server.serve_forever, name="fake-worker", daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
