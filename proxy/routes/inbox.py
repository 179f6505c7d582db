"""The inbox read API (issue 13): what a frontend lists, opens and marks read, under the
caller's row-level security. Thin handlers: parse, call ``InboxService``, render."""

from __future__ import annotations

from chalice.app import Blueprint, Response

from ponte.contract.declare import Bodies, responds
from ponte.domain.inbox import (
    ContactPage,
    ConversationDetail,
    ConversationPage,
    InstanceList,
    LeadPage,
    MessagePage,
    ReadReceipt,
    SearchPage,
)
from proxy.http import api, json_response, query_params
from proxy.responses import ErrorBody
from proxy.runtime import caller, container

inbox_routes = Blueprint(__name__)

ERRORS: dict[int, Bodies] = dict.fromkeys((400, 401, 403, 404, 500), ErrorBody)


@inbox_routes.route("/conversations", methods=["GET"])
@api
@responds({200: ConversationPage, **ERRORS}, summary="The inbox: newest activity first, by cursor, with filters")
def list_conversations() -> Response:
    """Filters: status, state (bot, waiting, in_service, snoozed, resolved), team_id, assigned_to (a user id,
    me, none), priority, instance_id, sla=breached|due_soon, unread=true, lead_stage, updated_since;
    limit 1-100 (50); cursor from next_cursor."""
    claims = caller(inbox_routes.current_request)
    return json_response(200, container().inbox.conversations(claims, query_params(inbox_routes.current_request)))


@inbox_routes.route("/conversations/{conversation_id}", methods=["GET"])
@api
@responds({200: ConversationDetail, **ERRORS}, summary="One conversation: contact, lead, ERP card, suggestions")
def get_conversation(conversation_id: str) -> Response:
    claims = caller(inbox_routes.current_request)
    return json_response(200, container().inbox.conversation(claims, conversation_id))


@inbox_routes.route("/conversations/{conversation_id}/messages", methods=["GET"])
@api
@responds({200: MessagePage, **ERRORS}, summary="History, newest first; before = next_cursor for older")
def list_messages(conversation_id: str) -> Response:
    claims = caller(inbox_routes.current_request)
    return json_response(
        200, container().inbox.messages(claims, conversation_id, query_params(inbox_routes.current_request))
    )


@inbox_routes.route("/conversations/{conversation_id}/read", methods=["POST"])
@api
@responds({200: ReadReceipt, **ERRORS}, summary="Marks the conversation read for the caller")
def mark_read(conversation_id: str) -> Response:
    claims = caller(inbox_routes.current_request)
    return json_response(200, container().inbox.mark_read(claims, conversation_id))


@inbox_routes.route("/contacts", methods=["GET"])
@api
@responds({200: ContactPage, **ERRORS}, summary="Contacts by name or any form of their number (q), by cursor")
def list_contacts() -> Response:
    claims = caller(inbox_routes.current_request)
    return json_response(200, container().inbox.contacts(claims, query_params(inbox_routes.current_request)))


@inbox_routes.route("/leads", methods=["GET"])
@api
@responds({200: LeadPage, **ERRORS}, summary="Leads, newest first: stage, source, score_min, score_max, cursor")
def list_leads() -> Response:
    claims = caller(inbox_routes.current_request)
    return json_response(200, container().inbox.leads(claims, query_params(inbox_routes.current_request)))


@inbox_routes.route("/instances", methods=["GET"])
@api
@responds({200: InstanceList, **ERRORS}, summary="The WhatsApp instances of the caller's tenants (inbox filter)")
def list_instances() -> Response:
    claims = caller(inbox_routes.current_request)
    return json_response(200, container().inbox.instances(claims))


@inbox_routes.route("/search", methods=["GET"])
@api
@responds({200: SearchPage, **ERRORS}, summary="Messages matching q (Portuguese, accents ignored), newest first")
def search() -> Response:
    claims = caller(inbox_routes.current_request)
    return json_response(200, container().inbox.search(claims, query_params(inbox_routes.current_request)))
