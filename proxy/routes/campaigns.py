"""Campaigns (issue 19): write, preview, approve, start, pause, resume, cancel and follow a
campaign; the tenant's campaign settings and its suppression list. Thin handlers: parse, call
``CampaignService`` / ``ConsentService``, render."""

from __future__ import annotations

from chalice.app import Blueprint, Response

from ponte.contract.declare import Bodies, responds
from ponte.domain.campaigns.api import (
    ApproveRequest,
    CampaignPage,
    CampaignPreview,
    CampaignProgress,
    CampaignReplyPage,
    CampaignRequest,
    CampaignSettingsRequest,
    CampaignSettingsView,
    CampaignView,
    OptOutPage,
    OptOutRequest,
    OptOutStatus,
    OptOutView,
    PreviewRequest,
)
from ponte.services.campaign_consent import ConsentService
from ponte.services.campaigns import CampaignService, CampaignsUnavailableError
from proxy.http import api, json_response, json_value, query_params
from proxy.responses import ErrorBody
from proxy.runtime import caller, container

campaign_routes = Blueprint(__name__)

ERRORS: dict[int, Bodies] = dict.fromkeys((400, 401, 403, 404, 409, 422, 500, 503), ErrorBody)


def _claims() -> dict[str, object]:
    return caller(campaign_routes.current_request)


def _campaigns() -> CampaignService:
    service = container().campaigns
    if service is None:
        raise CampaignsUnavailableError("campaigns are not configured")
    return service


def _consent() -> ConsentService:
    service = container().consent
    if service is None:
        raise CampaignsUnavailableError("campaigns are not configured")
    return service


@campaign_routes.route("/campaigns", methods=["POST"])
@api
@responds({201: CampaignView, **ERRORS}, request=CampaignRequest, summary="A new campaign (owners, admins)")
def create_campaign() -> Response:
    """A draft: its audience (a segment, or a CSV of phones whose unreadable rows are reported) and
    message. Nothing is sent before a person previews and approves it, then starts it."""
    claims = _claims()
    return json_response(201, _campaigns().create(claims, json_value(campaign_routes.current_request)))


@campaign_routes.route("/campaigns", methods=["GET"])
@api
@responds({200: CampaignPage, **ERRORS}, summary="Campaigns, newest first: tenant_id, limit, cursor")
def list_campaigns() -> Response:
    claims = _claims()
    return json_response(200, _campaigns().page(claims, query_params(campaign_routes.current_request)))


@campaign_routes.route("/campaigns/{campaign_id}", methods=["GET"])
@api
@responds({200: CampaignView, **ERRORS}, summary="One campaign: content, approval, audience report, progress")
def get_campaign(campaign_id: str) -> Response:
    claims = _claims()
    return json_response(200, _campaigns().get(claims, campaign_id))


@campaign_routes.route("/campaigns/{campaign_id}", methods=["PUT"])
@api
@responds({200: CampaignView, **ERRORS}, request=CampaignRequest, summary="New content (voids an approval)")
def replace_campaign(campaign_id: str) -> Response:
    claims = _claims()
    return json_response(200, _campaigns().replace(claims, campaign_id, json_value(campaign_routes.current_request)))


@campaign_routes.route("/campaigns/{campaign_id}/preview", methods=["POST"])
@api
@responds({200: CampaignPreview, **ERRORS}, request=PreviewRequest, summary="Audience counts and sample messages")
def preview_campaign(campaign_id: str) -> Response:
    """Who gets it and who not (by reason), a sample of the exact messages (and the model's rewrite
    when asked), the pace; ``content_hash`` is what an approval names."""
    claims = _claims()
    return json_response(
        200, _campaigns().preview(claims, campaign_id, json_value(campaign_routes.current_request, required=False))
    )


@campaign_routes.route("/campaigns/{campaign_id}/approve", methods=["POST"])
@api
@responds({200: CampaignView, **ERRORS}, request=ApproveRequest, summary="Approve the previewed content (audited)")
def approve_campaign(campaign_id: str) -> Response:
    claims = _claims()
    return json_response(200, _campaigns().approve(claims, campaign_id, json_value(campaign_routes.current_request)))


@campaign_routes.route("/campaigns/{campaign_id}/start", methods=["POST"])
@api
@responds({200: CampaignView, **ERRORS}, summary="Freeze the audience and start sending")
def start_campaign(campaign_id: str) -> Response:
    claims = _claims()
    return json_response(200, _campaigns().start(claims, campaign_id))


@campaign_routes.route("/campaigns/{campaign_id}/pause", methods=["POST"])
@api
@responds({200: CampaignView, **ERRORS}, summary="Pause (what is planned goes back to the queue)")
def pause_campaign(campaign_id: str) -> Response:
    claims = _claims()
    return json_response(200, _campaigns().pause(claims, campaign_id))


@campaign_routes.route("/campaigns/{campaign_id}/resume", methods=["POST"])
@api
@responds({200: CampaignView, **ERRORS}, summary="Resume a paused campaign (by hand or automatically)")
def resume_campaign(campaign_id: str) -> Response:
    claims = _claims()
    return json_response(200, _campaigns().resume(claims, campaign_id))


@campaign_routes.route("/campaigns/{campaign_id}/cancel", methods=["POST"])
@api
@responds({200: CampaignView, **ERRORS}, summary="Cancel: nobody still waiting gets it")
def cancel_campaign(campaign_id: str) -> Response:
    claims = _claims()
    return json_response(200, _campaigns().cancel(claims, campaign_id))


@campaign_routes.route("/campaigns/{campaign_id}/progress", methods=["GET"])
@api
@responds({200: CampaignProgress, **ERRORS}, summary="Queued, sent, delivered, read, failed, replied, opted out")
def campaign_progress(campaign_id: str) -> Response:
    claims = _claims()
    return json_response(200, _campaigns().progress(claims, campaign_id))


@campaign_routes.route("/campaigns/{campaign_id}/replies", methods=["GET"])
@api
@responds({200: CampaignReplyPage, **ERRORS}, summary="Replies within the window, with the leads they created")
def campaign_replies(campaign_id: str) -> Response:
    claims = _claims()
    return json_response(200, _campaigns().replies(claims, campaign_id, query_params(campaign_routes.current_request)))


@campaign_routes.route("/campaign-settings", methods=["GET"])
@api
@responds({200: CampaignSettingsView, **ERRORS}, summary="The tenant's campaign settings (tenant_id)")
def get_campaign_settings() -> Response:
    claims = _claims()
    return json_response(200, _consent().settings(claims, query_params(campaign_routes.current_request)))


@campaign_routes.route("/campaign-settings", methods=["PUT"])
@api
@responds(
    {200: CampaignSettingsView, **ERRORS},
    request=CampaignSettingsRequest,
    summary="Opt-out texts and words, quiet hours",
)
def put_campaign_settings() -> Response:
    claims = _claims()
    return json_response(
        200,
        _consent().save_settings(
            claims, query_params(campaign_routes.current_request), json_value(campaign_routes.current_request)
        ),
    )


@campaign_routes.route("/opt-outs", methods=["GET"])
@api
@responds({200: OptOutPage, **ERRORS}, summary="The suppression list (keyed hashes), newest first")
def list_opt_outs() -> Response:
    claims = _claims()
    return json_response(200, _consent().page(claims, query_params(campaign_routes.current_request)))


@campaign_routes.route("/opt-outs/check", methods=["GET"])
@api
@responds({200: OptOutStatus, **ERRORS}, summary="Whether a number (phone) opted out")
def check_opt_out() -> Response:
    claims = _claims()
    return json_response(200, _consent().check(claims, query_params(campaign_routes.current_request)))


@campaign_routes.route("/opt-outs", methods=["POST"])
@api
@responds({200: OptOutView, **ERRORS}, request=OptOutRequest, summary="Opt a number out by hand (admins)")
def add_opt_out() -> Response:
    claims = _claims()
    return json_response(200, _consent().opt_out(claims, json_value(campaign_routes.current_request)))


@campaign_routes.route("/opt-outs/opt-in", methods=["POST"])
@api
@responds({200: OptOutView, **ERRORS}, request=OptOutRequest, summary="The contact asked to receive again (admins)")
def opt_in() -> Response:
    claims = _claims()
    return json_response(200, _consent().opt_in(claims, json_value(campaign_routes.current_request)))
