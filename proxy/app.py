"""Ponte's edge proxy: a Chalice app. Handlers parse, call one service, map the result."""

from __future__ import annotations

from typing import Any

from chalice.app import Chalice, CORSConfig, Response
from pydantic import ValidationError

from ponte.adapters.prometheus import count_webhook
from ponte.contract.declare import Bodies, PlainText, responds
from ponte.domain.accounts import Me
from ponte.domain.feedback import Correction, CorrectionRequest, DiscardRequest, MessageAnalysisView
from ponte.domain.gateway_api import (
    DeepLinkCreate,
    DeepLinkCreated,
    DeepLinkResolved,
    DiagnosticsPage,
    InstanceView,
    SendRequest,
    SendResponse,
    StartConversationRequest,
    scalar_map,
)
from ponte.domain.hidden import ContactRef, HiddenList, HideResult, UnhideResult
from ponte.domain.outbound import OutboundContent, OutboundKind
from ponte.services.exceptions import BadRequestError, ServiceError
from ponte.services.intake import WebhookRequest
from ponte.services.json_body import parse_json_body
from ponte.services.privacy import PrivacyService
from ponte.services.sending import SendCommand
from proxy import runtime
from proxy.http import api, json_object, json_response, logger, query_params, raw_body
from proxy.responses import (
    ErrorBody,
    Health,
    SuggestionOutcomeBody,
    WebhookAccepted,
    WebhookIgnored,
    WebhookRejected,
)
from proxy.routes.campaigns import campaign_routes
from proxy.routes.cloud import cloud_routes
from proxy.routes.inbox import inbox_routes
from proxy.routes.media import media as media_routes_service
from proxy.routes.media import media_routes
from proxy.routes.metrics import metrics_routes
from proxy.routes.operations import operations_routes
from proxy.routes.reports import report_routes
from proxy.runtime import container

app = Chalice(app_name="ponte-proxy", configure_logs=False)  # Powertools logs under this name
# A CRM's web app on its own origin calls the API from the browser. Any origin may: the API takes a
# bearer token in the Authorization header, never a cookie, so a page elsewhere cannot act for a
# signed-in user. Chalice answers the preflights (locally, and as API Gateway OPTIONS methods), and
# adds the headers to every answer, errors included, so the page can read their code and reason.
app.api.cors = CORSConfig(allow_origin="*", expose_headers=["Retry-After"], max_age=600)

app.register_blueprint(inbox_routes)
app.register_blueprint(operations_routes)
app.register_blueprint(report_routes)
app.register_blueprint(metrics_routes)
app.register_blueprint(cloud_routes)
app.register_blueprint(media_routes)
app.register_blueprint(campaign_routes)


def _webhook(provider: str, instance: str, secret: str | None) -> Response:
    request = app.current_request
    assert request is not None
    body = request.raw_body or b""
    try:
        intake = container().intake
    except Exception:  # the composition root could not reach a dependency (secrets, database)
        logger.exception("webhook intake unavailable")
        return json_response(503, {"outcome": "rejected", "code": "unavailable", "reason": "try again later"})
    result = intake.handle(
        WebhookRequest(
            provider=provider,
            instance_id=instance,
            body=body if isinstance(body, bytes) else body.encode(),
            headers={k.lower(): v for k, v in request.headers.items()},
            path_secret=secret,
        )
    )
    # a label per known provider only: the path is the sender's to choose
    count_webhook(provider if provider in KNOWN_PROVIDERS else "other", str(result.body.get("outcome")))
    return json_response(result.status_code, result.body, headers=result.headers)


KNOWN_PROVIDERS = frozenset({"wppconnect", "evolution"})

# Any content type reaches the intake (which parses the body as JSON whatever the header says), so
# every request, odd ones included, gets a diagnostics row and a machine code.
WEBHOOK_CONTENT_TYPES = ["*/*"]
# Every user-facing route may answer these with {"code", "message"} (proxy.http.error_response).
USER_ERRORS: dict[int, Bodies] = dict.fromkeys((400, 401, 403, 404, 409, 422, 500), ErrorBody)
WEBHOOK_RESPONSES: dict[int, Bodies] = {
    200: (WebhookAccepted, WebhookIgnored),
    **dict.fromkeys((400, 401, 413, 422, 429, 503), WebhookRejected),
}


@app.route("/webhooks/{provider}/{instance}", methods=["POST"], content_types=WEBHOOK_CONTENT_TYPES)
@responds(
    WEBHOOK_RESPONSES,
    auth="webhook_secret",
    summary="A gateway event (WPPConnect, Evolution API v2, or the Cloud API signed with X-Hub-Signature-256)",
)
def webhook(provider: str, instance: str) -> Response:
    return _webhook(provider, instance, None)


@app.route("/webhooks/{provider}/{instance}", methods=["GET"])
@responds(
    dict.fromkeys((200, 400, 403, 503), PlainText), auth="none", summary="Cloud API webhook verification (Meta's GET)"
)
def webhook_verification(provider: str, instance: str) -> Response:
    """Echo ``hub.challenge`` as text/plain when ``hub.mode=subscribe`` and ``hub.verify_token`` is the
    instance's verify token (compared in constant time); otherwise 403 (400: no usable challenge)."""
    try:
        intake = container().intake
    except Exception:
        logger.exception("webhook intake unavailable")
        return Response(body="try again later", status_code=503, headers={"Content-Type": "text/plain"})
    result = intake.handshake(provider, instance, query_params(app.current_request))
    return Response(body=result.text, status_code=result.status_code, headers={"Content-Type": "text/plain"})


@app.route("/webhooks/{provider}/{instance}/{secret}", methods=["POST"], content_types=WEBHOOK_CONTENT_TYPES)
@responds(WEBHOOK_RESPONSES, auth="webhook_secret")
def webhook_with_path_secret(provider: str, instance: str, secret: str) -> Response:
    """For gateways that cannot send headers (WPPConnect): the secret is a path segment."""
    return _webhook(provider, instance, secret)


@app.route("/health", methods=["GET"])
@responds({200: Health}, auth="none", summary="Liveness")
def health() -> dict[str, object]:
    return {"ok": True}


def caller() -> dict[str, object]:
    """The verified claims of the user calling a user-facing route."""
    return runtime.caller(app.current_request)


@app.route("/me", methods=["GET"])
@api
@responds({200: Me, **USER_ERRORS})
def me() -> Response:
    """The caller and their tenants (owner / admin / agent)."""
    return json_response(200, container().accounts.me(caller()))


@app.route("/messages/{message_id}/analysis", methods=["GET"])
@api
@responds({200: MessageAnalysisView, **USER_ERRORS})
def message_analysis(message_id: str) -> Response:
    """The analysis of a customer's message: labels (corrected ones win), score parts, priority, SLA, suggestion."""
    return json_response(200, container().feedback.analysis(caller(), message_id))


@app.route("/messages/{message_id}/analysis/correction", methods=["POST"])
@api
@responds({200: Correction, **USER_ERRORS}, request=CorrectionRequest)
def correct_analysis(message_id: str) -> Response:
    """The agent corrects a message's sentiment and/or intent; it joins the tenant's example memory."""
    return json_response(200, container().feedback.correct(caller(), message_id, raw_body(app.current_request)))


@app.route("/suggestions/{suggestion_id}/outcome", methods=["POST"])
@api
@responds({200: SuggestionOutcomeBody, **USER_ERRORS}, request=DiscardRequest)
def suggestion_outcome(suggestion_id: str) -> Response:
    """The agent discards a suggestion (sent ones are recorded by the send path with their final text)."""
    outcome = container().feedback.discard(caller(), suggestion_id, raw_body(app.current_request))
    return json_response(200, {"id": suggestion_id, "outcome": outcome.value})


class PrivacyUnavailableError(ServiceError):
    status_code = 503
    code = "privacy_unavailable"


def privacy() -> PrivacyService:
    service = container().privacy
    if service is None:  # no audit key in the secret store: refuse rather than audit in clear
        raise PrivacyUnavailableError("privacy actions are not configured")
    return service


def contact_ref() -> ContactRef:
    """The JSON body of a hide / unhide / erase request: ``{phone | jid | contact_id, tenant_id?}``."""
    try:
        body = parse_json_body(raw_body(app.current_request) or b"{}")
        return ContactRef.model_validate(body)
    except (ServiceError, ValidationError) as exc:
        reason = "give exactly one of phone, jid or contact_id (and optionally tenant_id)"
        raise BadRequestError(reason, code="invalid_contact") from exc


@app.route("/contacts/hide", methods=["POST"])
@api
@responds({200: HideResult, **USER_ERRORS}, request=ContactRef)
def hide_contact() -> Response:
    """Ocultar do CRM: purge every trace of the contact in the tenant now, and drop it from now on."""
    claims = caller()
    return json_response(200, privacy().hide(claims, contact_ref()))


@app.route("/contacts/unhide", methods=["POST"])
@api
@responds({200: UnhideResult, **USER_ERRORS}, request=ContactRef)
def unhide_contact() -> Response:
    claims = caller()
    return json_response(200, privacy().unhide(claims, contact_ref()))


@app.route("/contacts/hidden", methods=["GET"])
@api
@responds({200: HiddenList, **USER_ERRORS})
def hidden_contacts() -> Response:
    claims = caller()
    tenant_id = query_params(app.current_request).get("tenant_id")
    return json_response(200, privacy().hidden(claims, tenant_id))


@app.route("/contacts/erase", methods=["POST"])
@api
@responds({200: HideResult, **USER_ERRORS}, request=ContactRef)
def erase_contact() -> Response:
    """Erasure on request (LGPD): the same purge and audit, without hiding the contact."""
    claims = caller()
    return json_response(200, privacy().erase(claims, contact_ref()))


def _optional_str(body: dict[str, Any], name: str) -> str | None:
    value = body.get(name)
    if value is None:
        return None
    if not isinstance(value, str):
        raise BadRequestError(f"{name} must be a string", code="invalid_field")
    return value


def _send_command(body: dict[str, Any], **where: str | None) -> SendCommand:
    return SendCommand(
        text=_optional_str(body, "text") or "",
        idempotency_key=_optional_str(body, "idempotency_key") or "",
        suggestion_id=_optional_str(body, "suggestion_id"),
        content=outbound_content(body),
        **where,
    )


def outbound_content(body: dict[str, Any]) -> OutboundContent | None:
    """The non-text content a send request names with ``type`` (None for a text)."""
    kind = body.get("type", "text")
    if kind == "text":
        return None
    if not isinstance(kind, str) or kind not in OutboundKind.__members__.values():
        raise BadRequestError("type must be one of " + ", ".join(k.value for k in OutboundKind), code="invalid_type")
    field = {"image": "media", "document": "media", "audio": "media", "video": "media"}.get(kind, kind)
    try:
        return OutboundContent.model_validate({"kind": kind, field: body.get(field)})
    except ValidationError as exc:
        raise BadRequestError(f"{field} is missing or invalid for a {kind} message", code="invalid_content") from exc


SEND_RESPONSES: dict[int, Bodies] = {200: SendResponse, 201: SendResponse, 202: SendResponse, 502: ErrorBody,
                                     503: ErrorBody, **USER_ERRORS}  # fmt: skip


@app.route("/conversations/{conversation_id}/messages", methods=["POST"])
@api
@responds(SEND_RESPONSES, request=SendRequest, summary="Send a message (idempotent; never blindly retried)")
def send_message(conversation_id: str) -> Response:
    """An agent sends a text, media (uploaded first through ``POST /media/uploads``), a location, a
    contact card or interactive buttons / a list; 201 sent, 200 an earlier send with the same key,
    202 unconfirmed. 422 ``unsupported_by_provider`` when the instance's gateway cannot send that
    kind; on the Cloud API 422 ``outside_service_window`` (``data.template_route``) for anything
    but a template 24 hours after the contact last wrote."""
    claims = caller()
    command = _send_command(json_object(app.current_request), conversation_id=conversation_id)
    if command.content is not None and command.content.media is not None:
        # the upload is the caller's tenant's, of that kind, for this conversation (their RLS)
        media_routes_service().check_upload(claims, command.content.media.upload_id, command.content.kind,
                                            conversation_id)  # fmt: skip
    result = container().sending.send(claims, command)
    return json_response(result.status_code, SendResponse.model_validate(result.body()))


@app.route("/conversations", methods=["POST"])
@api
@responds(SEND_RESPONSES, request=StartConversationRequest, summary="First message of a virtual conversation")
def start_conversation() -> Response:
    """The first message of a virtual conversation (a deep link to a number never talked to)."""
    claims = caller()
    body = json_object(app.current_request)
    command = _send_command(body, phone=_optional_str(body, "phone"), instance_id=_optional_str(body, "instance_id"))
    result = container().sending.send(claims, command)
    return json_response(result.status_code, SendResponse.model_validate(result.body()))


@app.route("/deeplinks/resolve", methods=["GET"])
@api
@responds({200: DeepLinkResolved, **USER_ERRORS}, summary="A marketing deep link: conversation or virtual one")
def resolve_deeplink() -> Response:
    claims = caller()
    resolved = container().deeplinks.resolve(claims, query_params(app.current_request))
    if resolved.get("customer"):
        resolved["customer"] = {
            **resolved["customer"],
            "sales_summary": scalar_map(resolved["customer"].get("sales_summary")) or {},
        }
    return json_response(200, DeepLinkResolved.model_validate(resolved))


@app.route("/deeplinks", methods=["POST"])
@api
@responds({201: DeepLinkCreated, **USER_ERRORS}, request=DeepLinkCreate, summary="A signed deep link (admins)")
def create_deeplink() -> Response:
    claims = caller()
    return json_response(
        201, DeepLinkCreated.model_validate(container().deeplinks.create(claims, json_object(app.current_request)))
    )


@app.route("/instances/{instance_id}/status", methods=["GET"])
@api
@responds(
    {200: InstanceView, 502: ErrorBody, **USER_ERRORS}, summary="Session status (a status check feeds the recovery)"
)
def instance_status(instance_id: str) -> Response:
    claims = caller()
    return json_response(200, InstanceView.model_validate(container().sessions.status(claims, instance_id)))


@app.route("/instances/{instance_id}/reconnect", methods=["POST"])
@api
@responds({200: InstanceView, 502: ErrorBody, **USER_ERRORS}, summary="Automatic reconnects, then a reset total")
def instance_reconnect(instance_id: str) -> Response:
    claims = caller()
    return json_response(200, InstanceView.model_validate(container().sessions.reconnect(claims, instance_id)))


@app.route("/instances/{instance_id}/reset", methods=["POST"])
@api
@responds({200: InstanceView, 502: ErrorBody, **USER_ERRORS}, summary="Reset total: a new session and QR")
def instance_reset(instance_id: str) -> Response:
    """Reset total: clear the gateway session and start a new one; the new QR goes to the admins."""
    claims = caller()
    return json_response(200, InstanceView.model_validate(container().sessions.reset(claims, instance_id)))


@app.route("/diagnostics", methods=["GET"])
@api
@responds({200: DiagnosticsPage, **USER_ERRORS}, summary="The diagnostics log (admins), newest first, by cursor")
def diagnostics() -> Response:
    claims = caller()
    page = container().diagnostics.list(claims, query_params(app.current_request))
    items = [{**item, "detail": scalar_map(item.get("detail"))} for item in page["items"]]
    return json_response(200, DiagnosticsPage.model_validate({**page, "items": items}))
