"""What both gateway clients share: one HTTP call with diagnostics, error mapping and
bounded retries for idempotent calls.

Every attempt leaves one diagnostics row with the route *template* (never the URL: it
can hold a phone or a secret key), the operation, outcome, status, latency and error code.
"""

from __future__ import annotations

import binascii
import logging
import random
import time
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import quote

import httpx

from ponte.domain.diagnostics import DiagnosticsEntry
from ponte.domain.gateway import FetchedMedia
from ponte.domain.retry import RetryPolicy
from ponte.ports.diagnostics import DiagnosticsLog
from ponte.ports.gateway import (
    GatewayAmbiguousError,
    GatewayAuthError,
    GatewayError,
    GatewayRejectedError,
    GatewayTarget,
    GatewayUnavailableError,
)

logger = logging.getLogger(__name__)

# A provider hook that turns a response into a more precise error (e.g. "not logged"), or None.
Classifier = Callable[[httpx.Response], GatewayError | None]


def _no_classifier(response: httpx.Response) -> GatewayError | None:
    return None


def json_body(response: httpx.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        return None


class GatewayHttp:
    def __init__(
        self,
        *,
        client: httpx.Client,
        target: GatewayTarget,
        base_url: str,
        diagnostics: DiagnosticsLog | None,
        retry: RetryPolicy,
        sleep: Callable[[float], None] = time.sleep,
        rand: Callable[[], float] = random.random,
        classify: Classifier = _no_classifier,
    ) -> None:
        self._client = client
        self._target = target
        self._base_url = base_url.rstrip("/")
        self._diagnostics = diagnostics
        self._retry = retry
        self._sleep = sleep
        self._rand = rand
        self._classify = classify

    def call(
        self,
        method: str,
        template: str,
        params: Mapping[str, str],
        *,
        operation: str,
        idempotent: bool,
        json: Any = None,
        headers: Mapping[str, str] | None = None,
        query: Mapping[str, str | int] | None = None,
        files: Mapping[str, Any] | None = None,
        data: Mapping[str, str] | None = None,
    ) -> httpx.Response:
        """One logical call; idempotent ones are retried on timeouts, 5xx and refused connections."""
        attempts = self._retry.max_attempts if idempotent else 1
        for attempt in range(1, attempts + 1):
            try:
                return self._attempt(
                    method=method,
                    template=template,
                    params=params,
                    operation=operation,
                    attempt=attempt,
                    json=json,
                    headers=headers,
                    query=query,
                    files=files,
                    data=data,
                )
            except (GatewayUnavailableError, GatewayAmbiguousError):
                if attempt >= attempts:
                    raise
                self._sleep(self._retry.delay(attempt, self._rand))
        raise AssertionError("unreachable")

    def _attempt(
        self,
        *,
        method: str,
        template: str,
        params: Mapping[str, str],
        operation: str,
        attempt: int,
        json: Any,
        headers: Mapping[str, str] | None,
        query: Mapping[str, str | int] | None,
        files: Mapping[str, Any] | None = None,
        data: Mapping[str, str] | None = None,
    ) -> httpx.Response:
        url = self._base_url + template.format(**{k: _path_segment(v) for k, v in params.items()})
        started = time.monotonic()
        status: int | None = None
        error: GatewayError | None = None
        try:
            response = self._client.request(
                method, url, json=json, headers=headers, params=query, files=files, data=data
            )
            status = response.status_code
            error = self._error_of(response)
        except (httpx.ConnectError, httpx.ConnectTimeout):
            error = GatewayUnavailableError("the gateway could not be reached")
        except httpx.TimeoutException:
            error = GatewayAmbiguousError("the gateway did not answer in time")
        except httpx.TransportError as exc:
            error = GatewayAmbiguousError(f"transport error: {exc.__class__.__name__}")
        self._record(
            method=method,
            template=template,
            operation=operation,
            attempt=attempt,
            status=status,
            started=started,
            error=error,
        )
        if error is not None:
            raise error
        return response

    def download(self, url: str, *, headers: Mapping[str, str] | None = None, max_bytes: int, operation: str) -> bytes:
        """A file the gateway points at (a media URL), streamed and cut at ``max_bytes`` + 1 bytes so
        that the caller can tell "too large" without holding more. One attempt (the caller's job
        is retried by its queue); one diagnostics row without the URL."""
        started = time.monotonic()
        status: int | None = None
        error: GatewayError | None = None
        chunks: list[bytes] = []
        try:
            with self._client.stream("GET", url, headers=headers) as response:
                status = response.status_code
                if status >= 400:
                    error = GatewayRejectedError(f"the media URL answered {status}", status_code=status)
                    if status in (401, 403):
                        error = GatewayAuthError("the media URL refused the credentials", status_code=status)
                else:
                    size = 0
                    for chunk in response.iter_bytes():
                        chunks.append(chunk)
                        size += len(chunk)
                        if size > max_bytes:
                            break
        except (httpx.ConnectError, httpx.ConnectTimeout):
            error = GatewayUnavailableError("the media URL could not be reached")
        except httpx.HTTPError as exc:
            error = GatewayAmbiguousError(f"media download failed: {exc.__class__.__name__}")
        self._record(
            method="GET", template="<media url>", operation=operation, attempt=1, status=status, started=started,
            error=error,
        )  # fmt: skip
        if error is not None:
            raise error
        return b"".join(chunks)[: max_bytes + 1]

    def _error_of(self, response: httpx.Response) -> GatewayError | None:
        specific = self._classify(response)
        if specific is not None:
            return specific
        status = response.status_code
        if status < 400:
            return None
        if status in (401, 403):
            return GatewayAuthError("the gateway refused the credentials", status_code=status)
        if status >= 500:
            return GatewayAmbiguousError(f"the gateway answered {status}", status_code=status)
        return GatewayRejectedError(f"the gateway answered {status}", status_code=status)

    def _record(
        self,
        *,
        method: str,
        template: str,
        operation: str,
        attempt: int,
        status: int | None,
        started: float,
        error: GatewayError | None,
    ) -> None:
        if self._diagnostics is None:
            return
        # the webhooks' vocabulary (accepted / rejected) plus "timeout": one filter for both kinds of rows
        outcome = (
            "accepted" if error is None else ("timeout" if isinstance(error, GatewayAmbiguousError) else "rejected")
        )
        entry = DiagnosticsEntry(
            route=f"gateway {method} {template}",
            event=operation,
            outcome=outcome,
            tenant_id=self._target.tenant_id,
            instance_id=self._target.instance_id,
            status_code=status,
            latency_ms=round((time.monotonic() - started) * 1000, 2),
            error_code=error.code if error else None,
            detail={"provider": self._target.provider.value, "attempt": attempt},
        )
        try:
            self._diagnostics.record(entry)
        except Exception:  # the log must never break the call it describes
            logger.warning("diagnostics not recorded for %s", operation, exc_info=True)


def _path_segment(value: str) -> str:
    return quote(value, safe="@:")


def base64_media(value: Any, declared: Any, max_bytes: int) -> FetchedMedia:
    """A file a gateway answers as base64 (``data:`` URLs too), decoded only when under the cap."""
    if not isinstance(value, str) or not value:
        raise GatewayRejectedError("the gateway answered no file")
    if value.startswith("data:"):
        header, _, value = value.partition(",")
        declared = declared or header[5:].split(";", 1)[0]
    declared = declared if isinstance(declared, str) and declared else None
    if len(value) * 3 // 4 > max_bytes + 3:  # over the cap whatever the padding: never decoded
        return FetchedMedia(data=b"", declared_type=declared, too_large=True)
    try:
        data = binascii.a2b_base64(value.encode("ascii"))
    except (ValueError, UnicodeEncodeError) as exc:
        raise GatewayRejectedError("the gateway's file is not base64") from exc
    return FetchedMedia(data=data, declared_type=declared, too_large=len(data) > max_bytes)
