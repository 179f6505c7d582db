"""Ponte's edge proxy: a Chalice app. Handlers parse, call one service, map the result."""

from __future__ import annotations

from chalice.app import Chalice, Response

from ponte.services.exceptions import UnauthorizedError
from ponte.services.intake import WebhookRequest
from proxy.bootstrap import ProxyContainer, bootstrap
from proxy.http import api, authenticate, json_response

app = Chalice(app_name="ponte-proxy")

_container: ProxyContainer | None = None


def container() -> ProxyContainer:
    """Created on first use and kept for warm invocations; nothing connects at import time."""
    global _container  # noqa: PLW0603
    if _container is None:
        _container = bootstrap()
    return _container


def set_container(value: ProxyContainer | None) -> None:
    global _container  # noqa: PLW0603
    _container = value


def _webhook(provider: str, instance: str, secret: str | None) -> Response:
    request = app.current_request
    assert request is not None
    body = request.raw_body or b""
    result = container().intake.handle(
        WebhookRequest(
            provider=provider,
            instance_id=instance,
            body=body if isinstance(body, bytes) else body.encode(),
            headers={k.lower(): v for k, v in request.headers.items()},
            path_secret=secret,
        )
    )
    return json_response(result.status_code, result.body)


WEBHOOK_CONTENT_TYPES = ["application/json", "text/plain", "application/octet-stream"]


@app.route("/webhooks/{provider}/{instance}", methods=["POST"], content_types=WEBHOOK_CONTENT_TYPES)
def webhook(provider: str, instance: str) -> Response:
    return _webhook(provider, instance, None)


@app.route("/webhooks/{provider}/{instance}/{secret}", methods=["POST"], content_types=WEBHOOK_CONTENT_TYPES)
def webhook_with_path_secret(provider: str, instance: str, secret: str) -> Response:
    """For gateways that cannot send headers (WPPConnect): the secret is a path segment."""
    return _webhook(provider, instance, secret)


@app.route("/health", methods=["GET"])
def health() -> dict[str, object]:
    return {"ok": True}


def caller() -> dict[str, object]:
    """The verified claims of the user calling a user-facing route."""
    verifier = container().verifier
    if verifier is None:  # no key material configured: refuse rather than trust
        raise UnauthorizedError("invalid or missing access token")
    return authenticate(app.current_request, verifier)


@app.route("/me", methods=["GET"])
@api
def me() -> Response:
    """The caller and their tenants (owner / admin / agent)."""
    return json_response(200, container().accounts.me(caller()))


def _body() -> bytes:
    request = app.current_request
    raw = request.raw_body if request is not None else b""
    return raw if isinstance(raw, bytes) else (raw or "").encode()


@app.route("/messages/{message_id}/analysis", methods=["GET"])
@api
def message_analysis(message_id: str) -> Response:
    """The analysis of a customer's message: labels (corrected ones win), score parts, priority, SLA, suggestion."""
    return json_response(200, container().feedback.analysis(caller(), message_id))


@app.route("/messages/{message_id}/analysis/correction", methods=["POST"])
@api
def correct_analysis(message_id: str) -> Response:
    """The agent corrects a message's sentiment and/or intent; it joins the tenant's example memory."""
    return json_response(200, container().feedback.correct(caller(), message_id, _body()))


@app.route("/suggestions/{suggestion_id}/outcome", methods=["POST"])
@api
def suggestion_outcome(suggestion_id: str) -> Response:
    """The agent discards a suggestion (sent ones are recorded by the send path with their final text)."""
    outcome = container().feedback.discard(caller(), suggestion_id, _body())
    return json_response(200, {"id": suggestion_id, "outcome": outcome.value})
