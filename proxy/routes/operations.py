"""Agent operations (issue 17): the conversation lifecycle (assign, transfer, snooze, resolve,
its events), internal notes with mentions, teams, presence, the agents list, routing rules and
the tenant's operations settings. Thin handlers: parse, call one service, render."""

from __future__ import annotations

from chalice.app import Blueprint, Response

from ponte.contract.declare import Bodies, responds
from ponte.domain.operations_api import (
    AgentList,
    AssignRequest,
    BusinessHoursRequest,
    BusinessHoursView,
    EventList,
    LifecycleView,
    NotePage,
    NoteRequest,
    NoteView,
    PresenceRequest,
    PresenceView,
    ResolveRequest,
    RoutingRuleList,
    RoutingRulesRequest,
    SettingsRequest,
    SettingsView,
    SnoozeRequest,
    TeamList,
    TeamMembersRequest,
    TeamRequest,
    TeamView,
    TransferRequest,
)
from ponte.services.requests import parse_body
from proxy.http import api, json_response, json_value, query_params
from proxy.responses import ErrorBody
from proxy.runtime import caller, container

operations_routes = Blueprint(__name__)

ERRORS: dict[int, Bodies] = dict.fromkeys((400, 401, 403, 404, 409, 422, 500), ErrorBody)


def _claims() -> dict[str, object]:
    return caller(operations_routes.current_request)


# --- the lifecycle ---------------------------------------------------------------------------------


@operations_routes.route("/conversations/{conversation_id}/assign", methods=["POST"])
@api
@responds({200: LifecycleView, **ERRORS}, request=AssignRequest, summary="Take it, give it to an agent, or queue it")
def assign(conversation_id: str) -> Response:
    """``{"agent_id": <own id>}`` takes it (409 ``already_assigned`` when another agent has it);
    another agent's id (owners and admins); ``{"team_id"}`` puts it in that team's queue."""
    claims = _claims()
    request = parse_body(AssignRequest, json_value(operations_routes.current_request))
    return json_response(200, container().lifecycle.assign(claims, conversation_id, request))


@operations_routes.route("/conversations/{conversation_id}/transfer", methods=["POST"])
@api
@responds({200: LifecycleView, **ERRORS}, request=TransferRequest, summary="To an agent or a team, with a note")
def transfer(conversation_id: str) -> Response:
    claims = _claims()
    request = parse_body(TransferRequest, json_value(operations_routes.current_request))
    return json_response(200, container().lifecycle.transfer(claims, conversation_id, request))


@operations_routes.route("/conversations/{conversation_id}/snooze", methods=["POST"])
@api
@responds({200: LifecycleView, **ERRORS}, request=SnoozeRequest, summary="Until a time or the customer's next message")
def snooze(conversation_id: str) -> Response:
    claims = _claims()
    request = parse_body(SnoozeRequest, json_value(operations_routes.current_request))
    return json_response(200, container().lifecycle.snooze(claims, conversation_id, request))


@operations_routes.route("/conversations/{conversation_id}/resolve", methods=["POST"])
@api
@responds({200: LifecycleView, **ERRORS}, request=ResolveRequest, summary="Resolve (the CSAT question may follow)")
def resolve(conversation_id: str) -> Response:
    claims = _claims()
    request = parse_body(ResolveRequest, json_value(operations_routes.current_request))
    return json_response(200, container().lifecycle.resolve(claims, conversation_id, request))


@operations_routes.route("/conversations/{conversation_id}/events", methods=["GET"])
@api
@responds({200: EventList, **ERRORS}, summary="The conversation's lifecycle events, oldest first")
def events(conversation_id: str) -> Response:
    claims = _claims()
    return json_response(200, container().lifecycle.events(claims, conversation_id))


# --- notes -----------------------------------------------------------------------------------------


@operations_routes.route("/conversations/{conversation_id}/notes", methods=["POST"])
@api
@responds({201: NoteView, **ERRORS}, request=NoteRequest, summary="An internal note (never sent), with mentions")
def add_note(conversation_id: str) -> Response:
    claims = _claims()
    request = parse_body(NoteRequest, json_value(operations_routes.current_request))
    return json_response(201, container().operations.add_note(claims, conversation_id, request))


@operations_routes.route("/conversations/{conversation_id}/notes", methods=["GET"])
@api
@responds({200: NotePage, **ERRORS}, summary="Internal notes, newest first; before = next_cursor")
def list_notes(conversation_id: str) -> Response:
    claims = _claims()
    return json_response(
        200, container().operations.notes(claims, conversation_id, query_params(operations_routes.current_request))
    )


# --- teams, agents, presence ---------------------------------------------------------------------------


@operations_routes.route("/teams", methods=["GET"])
@api
@responds({200: TeamList, **ERRORS}, summary="The tenant's teams and their members")
def list_teams() -> Response:
    claims = _claims()
    return json_response(
        200, container().operations.teams(claims, query_params(operations_routes.current_request).get("tenant_id"))
    )


@operations_routes.route("/teams", methods=["POST"])
@api
@responds({201: TeamView, **ERRORS}, request=TeamRequest, summary="A new team (owners and admins)")
def create_team() -> Response:
    claims = _claims()
    request = parse_body(TeamRequest, json_value(operations_routes.current_request))
    return json_response(201, container().operations.save_team(claims, None, request))


@operations_routes.route("/teams/{team_id}", methods=["PUT"])
@api
@responds({200: TeamView, **ERRORS}, request=TeamRequest, summary="Change a team (owners and admins)")
def update_team(team_id: str) -> Response:
    claims = _claims()
    request = parse_body(TeamRequest, json_value(operations_routes.current_request))
    return json_response(200, container().operations.save_team(claims, team_id, request))


@operations_routes.route("/teams/{team_id}/members", methods=["PUT"])
@api
@responds({200: TeamView, **ERRORS}, request=TeamMembersRequest, summary="A team's members (owners and admins)")
def set_team_members(team_id: str) -> Response:
    claims = _claims()
    request = parse_body(TeamMembersRequest, json_value(operations_routes.current_request))
    tenant = query_params(operations_routes.current_request).get("tenant_id")
    return json_response(200, container().operations.set_members(claims, team_id, request, tenant))


@operations_routes.route("/agents", methods=["GET"])
@api
@responds({200: AgentList, **ERRORS}, summary="The tenant's members: presence, teams, open conversations")
def list_agents() -> Response:
    claims = _claims()
    return json_response(
        200, container().operations.agents(claims, query_params(operations_routes.current_request).get("tenant_id"))
    )


@operations_routes.route("/presence", methods=["POST"])
@api
@responds({200: PresenceView, **ERRORS}, request=PresenceRequest, summary="The caller's heartbeat and status")
def heartbeat() -> Response:
    """Send it every minute while working: without one for the tenant's TTL (90 s) the agent reads offline."""
    claims = _claims()
    request = parse_body(PresenceRequest, json_value(operations_routes.current_request))
    return json_response(200, container().operations.heartbeat(claims, request))


# --- routing rules and settings --------------------------------------------------------------------


@operations_routes.route("/routing-rules", methods=["GET"])
@api
@responds({200: RoutingRuleList, **ERRORS}, summary="The tenant's routing rules, in order")
def list_rules() -> Response:
    claims = _claims()
    return json_response(
        200, container().operations.rules(claims, query_params(operations_routes.current_request).get("tenant_id"))
    )


@operations_routes.route("/routing-rules", methods=["PUT"])
@api
@responds({200: RoutingRuleList, **ERRORS}, request=RoutingRulesRequest, summary="Replace the rules (owners, admins)")
def replace_rules() -> Response:
    claims = _claims()
    request = parse_body(RoutingRulesRequest, json_value(operations_routes.current_request))
    return json_response(200, container().operations.replace_rules(claims, request))


@operations_routes.route("/operations-settings", methods=["GET"])
@api
@responds({200: SettingsView, **ERRORS}, summary="Default team, automatic messages, timings")
def get_settings() -> Response:
    claims = _claims()
    return json_response(
        200, container().operations.settings(claims, query_params(operations_routes.current_request).get("tenant_id"))
    )


@operations_routes.route("/operations-settings", methods=["PUT"])
@api
@responds({200: SettingsView, **ERRORS}, request=SettingsRequest, summary="Change them (owners and admins)")
def put_settings() -> Response:
    claims = _claims()
    request = parse_body(SettingsRequest, json_value(operations_routes.current_request))
    return json_response(200, container().operations.save_settings(claims, request))


@operations_routes.route("/business-hours", methods=["GET"])
@api
@responds({200: BusinessHoursView, **ERRORS}, summary="Schedules (tenant, instance, team) and national holidays")
def get_business_hours() -> Response:
    claims = _claims()
    return json_response(
        200,
        container().operations.business_hours(claims, query_params(operations_routes.current_request).get("tenant_id")),
    )


@operations_routes.route("/business-hours", methods=["PUT"])
@api
@responds({200: BusinessHoursView, **ERRORS}, request=BusinessHoursRequest, summary="Replace them (owners, admins)")
def put_business_hours() -> Response:
    """Each item: ``{"instance_id"?, "team_id"?, "schedule": {"time_zone", "weekly": {"mon": [{"start":
    "08:00", "end": "12:00"}, ...]}, "national_holidays": true, "holidays": [{"date", "name"}]}}``."""
    claims = _claims()
    request = parse_body(BusinessHoursRequest, json_value(operations_routes.current_request))
    return json_response(200, container().operations.replace_business_hours(claims, request))
