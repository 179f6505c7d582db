"""Cloud API routes: a template send (the only message Meta takes 24 hours after the contact last
wrote) and the account's template list. Thin handlers: parse, call one service, render."""

from __future__ import annotations

from chalice.app import Blueprint, Response
from pydantic import ValidationError

from ponte.contract.declare import Bodies, responds
from ponte.domain.gateway_api import SendResponse, TemplateList, TemplateSendRequest
from ponte.domain.outbound import OutboundContent, OutboundKind
from ponte.services.exceptions import BadRequestError
from ponte.services.sending import SendCommand
from proxy.http import api, json_object, json_response, query_params
from proxy.responses import ErrorBody
from proxy.runtime import caller, container

cloud_routes = Blueprint(__name__)

ERRORS: dict[int, Bodies] = dict.fromkeys((400, 401, 403, 404, 409, 422, 500, 502, 503), ErrorBody)


@cloud_routes.route("/conversations/{conversation_id}/templates", methods=["POST"])
@api
@responds(
    {200: SendResponse, 201: SendResponse, 202: SendResponse, **ERRORS},
    request=TemplateSendRequest,
    summary="Send an approved template (Cloud API; idempotent like every send)",
)
def send_template(conversation_id: str) -> Response:
    """A template send through the same outbox as a text: 201 sent, 200 an earlier send with the same
    key, 202 unconfirmed; 422 ``unsupported_by_provider`` on an unofficial gateway."""
    claims = caller(cloud_routes.current_request)
    try:
        request = TemplateSendRequest.model_validate(json_object(cloud_routes.current_request))
    except ValidationError as exc:
        raise BadRequestError(
            "give template {name, language, components} and idempotency_key", code="invalid_template"
        ) from exc
    command = SendCommand(
        text="",
        idempotency_key=request.idempotency_key,
        conversation_id=conversation_id,
        content=OutboundContent(kind=OutboundKind.TEMPLATE, template=request.template),
    )
    result = container().sending.send(claims, command)
    return json_response(result.status_code, SendResponse.model_validate(result.body()))


@cloud_routes.route("/instances/{instance_id}/templates", methods=["GET"])
@api
@responds({200: TemplateList, **ERRORS}, summary="The Cloud API account's message templates (cached an hour)")
def list_templates(instance_id: str) -> Response:
    """``?refresh=true`` syncs from Meta now; a failed sync serves the cached list when there is one."""
    claims = caller(cloud_routes.current_request)
    refresh = query_params(cloud_routes.current_request).get("refresh", "").lower() in ("1", "true", "yes")
    return json_response(
        200, TemplateList.model_validate(container().templates.list(claims, instance_id, refresh=refresh))
    )
