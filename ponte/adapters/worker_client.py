"""HTTP client of the inference worker (``POST /v1/analyze`` with a bearer token), with timeouts.

Every failure (connection refused, timeout, 429 / 5xx, 401, an answer that is not a valid
:class:`Analysis`) becomes :class:`InferenceUnavailableError`; the breaker and the degraded
path take it from there. The token is never logged.
"""

from __future__ import annotations

import logging

import httpx
from pydantic import ValidationError

from ponte.domain.analysis import Analysis, AnalyzeRequest
from ponte.ports.analysis import InferenceClient, InferenceUnavailableError
from ponte.ports.campaigns import Rewriter, RewriteUnavailableError

logger = logging.getLogger(__name__)


class HttpInferenceClient(InferenceClient):
    def __init__(
        self,
        base_url: str,
        token: str,
        *,
        connect_timeout: float = 1.0,
        read_timeout: float = 20.0,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self._client = httpx.Client(
            base_url=base_url.rstrip("/"),
            headers={"Authorization": f"Bearer {token}"},
            timeout=httpx.Timeout(read_timeout, connect=connect_timeout),
            transport=transport,
        )

    def analyze(self, request: AnalyzeRequest) -> Analysis:
        try:
            response = self._client.post("/v1/analyze", content=request.model_dump_json())
        except httpx.HTTPError as exc:
            raise InferenceUnavailableError(type(exc).__name__) from exc
        if response.status_code != 200:
            if response.status_code in (401, 403):
                logger.error("the worker refused our token (HTTP %d): check the worker token", response.status_code)
            raise InferenceUnavailableError(f"HTTP {response.status_code}")
        try:
            return Analysis.model_validate_json(response.content)
        except ValidationError as exc:
            raise InferenceUnavailableError("invalid analysis") from exc

    def close(self) -> None:
        self._client.close()


class HttpRewriter(Rewriter):
    """The worker's ``POST /v1/rewrite``: one recipient's campaign text reworded by the local model.
    Any failure is :class:`RewriteUnavailableError` (the template text goes out instead)."""

    def __init__(
        self, base_url: str, token: str, *, read_timeout: float = 20.0, transport: httpx.BaseTransport | None = None
    ) -> None:
        self._client = httpx.Client(
            base_url=base_url.rstrip("/"),
            headers={"Authorization": f"Bearer {token}"},
            timeout=httpx.Timeout(read_timeout, connect=1.0),
            transport=transport,
        )

    def rewrite(self, text: str, *, name: str | None, max_chars: int) -> str:
        body = {"text": text, "name": name, "max_chars": max_chars}
        try:
            response = self._client.post("/v1/rewrite", json=body)
        except httpx.HTTPError as exc:
            raise RewriteUnavailableError(type(exc).__name__) from exc
        if response.status_code != 200:
            raise RewriteUnavailableError(f"HTTP {response.status_code}")
        try:
            value = response.json().get("text")
        except (ValueError, AttributeError) as exc:
            raise RewriteUnavailableError("invalid answer") from exc
        if not isinstance(value, str):
            raise RewriteUnavailableError("invalid answer")
        return value

    def close(self) -> None:
        self._client.close()
