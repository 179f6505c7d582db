"""Media routes: a received file's state and short-lived download URL, and the signed upload form of
a file to send. Under the caller's row-level security; thin handlers."""

from __future__ import annotations

from chalice.app import Blueprint, Response

from ponte.contract.declare import Bodies, responds
from ponte.domain.gateway_api import MediaUploadCreated, MediaUploadRequest, MediaView
from ponte.services.exceptions import ServiceError
from ponte.services.media import MediaService
from proxy.http import api, json_object, json_response
from proxy.responses import ErrorBody
from proxy.runtime import caller, container

media_routes = Blueprint(__name__)

ERRORS: dict[int, Bodies] = dict.fromkeys((400, 401, 403, 404, 422, 500, 503), ErrorBody)


class MediaUnavailableError(ServiceError):
    status_code = 503
    code = "media_unavailable"


def media() -> MediaService:
    service = container().media
    if service is None:
        raise MediaUnavailableError("the media bucket is not configured")
    return service


@media_routes.route("/messages/{message_id}/media", methods=["GET"])
@api
@responds({200: MediaView, **ERRORS}, summary="A message's file: its state and a signed URL (5 minutes) once stored")
def message_media(message_id: str) -> Response:
    """``state`` pending -> stored | too_large | failed (a ``media_updated`` broadcast at each change);
    ``url`` downloads the file with the type its bytes have, valid for ``expires_at``."""
    claims = caller(media_routes.current_request)
    return json_response(200, MediaView.model_validate(media().view(claims, message_id)))


@media_routes.route("/media/uploads", methods=["POST"])
@api
@responds(
    {201: MediaUploadCreated, **ERRORS}, request=MediaUploadRequest, summary="A signed upload form for a file to send"
)
def create_upload() -> Response:
    """Post the file to ``url`` as a multipart form with ``fields`` (then ``file``) within 10 minutes, at
    most ``max_bytes``; then send it with ``POST /conversations/{id}/messages``
    ``{"type": "image", "media": {"upload_id": ...}}``."""
    claims = caller(media_routes.current_request)
    body = json_object(media_routes.current_request)
    created = media().create_upload(
        claims, str(body.get("conversation_id") or ""), body.get("kind"), body.get("size_bytes"), body.get("filename")
    )
    return json_response(201, MediaUploadCreated.model_validate(created))
