"""Notes with mentions, teams and their members, presence heartbeats, the agents list, routing
rules and the tenant's operations settings. Configuration is for owners and admins (403 for an
agent, and the tables' policies say the same)."""

from __future__ import annotations

from collections.abc import Mapping

from ponte.domain.business_hours import national_holidays
from ponte.domain.operations_api import (
    AgentList,
    BusinessHours,
    BusinessHoursRequest,
    BusinessHoursView,
    HolidayView,
    NotePage,
    NoteRequest,
    NoteView,
    PresenceRequest,
    PresenceView,
    RoutingRuleList,
    RoutingRulesRequest,
    SettingsRequest,
    SettingsView,
    TeamList,
    TeamMembersRequest,
    TeamRequest,
    TeamView,
)
from ponte.domain.text import clean_text
from ponte.ports.accounts import MembershipReader
from ponte.ports.clock import Clock
from ponte.ports.lifecycle import Claims
from ponte.ports.operations import OperationsStore, TeamNameTakenError
from ponte.services.exceptions import BadRequestError, ForbiddenError, NotFoundError, UnprocessableError
from ponte.services.lifecycle import ADMIN_ROLES, LifecycleService
from ponte.services.paging import decode_cursor, encode_cursor, id_param, page_limit


class OperationsService:
    def __init__(
        self,
        store: OperationsStore,
        memberships: MembershipReader,
        lifecycle: LifecycleService | None = None,
        clock: Clock | None = None,
    ) -> None:
        self._clock = clock or Clock()
        self._store = store
        self._memberships = memberships
        self._lifecycle = lifecycle

    # --- which tenant ----------------------------------------------------------------------------

    def tenant(self, claims: Claims, tenant_id: str | None, *, admin: bool = False) -> str:
        """The tenant a route acts on: the one named, or the caller's only one; 403 / 400 otherwise."""
        wanted = id_param(tenant_id, "tenant_id")
        mine = {m.tenant_id: m.role for m in self._memberships.memberships(claims)}
        if wanted is None:
            if len(mine) != 1:
                raise BadRequestError(
                    "name the tenant (tenant_id): you belong to several or none", code="tenant_required"
                )
            wanted = next(iter(mine))
        role = mine.get(wanted)
        if role is None:
            raise ForbiddenError("not a member of that tenant", code="forbidden")
        if admin and role not in ADMIN_ROLES:
            raise ForbiddenError("only owners and admins change the operations settings", code="forbidden")
        return wanted

    # --- notes -----------------------------------------------------------------------------------

    def add_note(self, claims: Claims, conversation_id: str, request: NoteRequest) -> NoteView:
        conversation = _id(conversation_id, "conversation_id")
        tenant_id = self._store.conversation_tenant(claims, conversation)
        if tenant_id is None:
            raise NotFoundError("no such conversation", code="conversation_not_found")
        body = clean_text(request.body, 4001).strip()
        if not body:
            raise BadRequestError("the note is empty", code="empty_note")
        mentions = sorted({_id(m, "mention") for m in request.mentions})
        unknown = set(mentions) - self._store.members(tenant_id, mentions) if mentions else set()
        if unknown:
            raise UnprocessableError("mentions must be members of the tenant", code="unknown_mention")
        return self._store.add_note(claims, tenant_id, conversation, body, mentions)

    def notes(self, claims: Claims, conversation_id: str, params: Mapping[str, str]) -> NotePage:
        limit = page_limit(params)
        before = None
        if params.get("before"):
            at, key = decode_cursor(params["before"])
            if not isinstance(key, str) or id_param(key, "cursor") is None:
                raise BadRequestError("cursor is not one this API gave", code="invalid_cursor")
            before = (at, key)
        rows = self._store.notes(claims, _id(conversation_id, "conversation_id"), before, limit)
        if rows is None:
            raise NotFoundError("no such conversation", code="conversation_not_found")
        items, more = rows[:limit], len(rows) > limit
        return NotePage(items=items, next_cursor=encode_cursor(items[-1].created_at, items[-1].id) if more else None)

    # --- teams -----------------------------------------------------------------------------------

    def teams(self, claims: Claims, tenant_id: str | None) -> TeamList:
        return TeamList(items=self._store.teams(claims, self.tenant(claims, tenant_id)))

    def save_team(self, claims: Claims, team_id: str | None, request: TeamRequest) -> TeamView:
        tenant = self.tenant(claims, request.tenant_id, admin=True)
        if not request.name.strip():
            raise BadRequestError("the team needs a name", code="invalid_body")
        try:
            saved = self._store.save_team(claims, tenant, _id(team_id, "team_id") if team_id else None, request)
        except TeamNameTakenError as exc:
            raise UnprocessableError("the tenant has a team with that name", code="team_name_taken") from exc
        if saved is None:
            raise NotFoundError("no such team", code="team_not_found")
        return saved

    def set_members(self, claims: Claims, team_id: str, request: TeamMembersRequest, tenant_id: str | None) -> TeamView:
        tenant = self.tenant(claims, tenant_id, admin=True)
        users = sorted({_id(u, "user_id") for u in request.user_ids})
        if set(users) - self._store.members(tenant, users):
            raise UnprocessableError("team members must be members of the tenant", code="unknown_agent")
        saved = self._store.set_members(claims, tenant, _id(team_id, "team_id"), users)
        if saved is None:
            raise NotFoundError("no such team", code="team_not_found")
        if self._lifecycle is not None:
            self._lifecycle.assign_queue(tenant, saved.id)
        return saved

    # --- presence and agents -----------------------------------------------------------------------

    def heartbeat(self, claims: Claims, request: PresenceRequest) -> PresenceView:
        tenant = self.tenant(claims, request.tenant_id)
        ttl = self._store.settings(tenant).presence_ttl_seconds
        presence = self._store.heartbeat(claims, tenant, request.status, ttl)
        if request.status == "online" and self._lifecycle is not None:
            self._lifecycle.assign_queue(tenant, None)  # an agent came (back): their teams' queues move
        return presence

    def agents(self, claims: Claims, tenant_id: str | None) -> AgentList:
        tenant = self.tenant(claims, tenant_id)
        return AgentList(items=self._store.agents(tenant, self._store.settings(tenant).presence_ttl_seconds))

    # --- routing rules and settings ----------------------------------------------------------------

    def rules(self, claims: Claims, tenant_id: str | None) -> RoutingRuleList:
        tenant = self.tenant(claims, tenant_id)
        return RoutingRuleList(tenant_id=tenant, items=self._store.rules(tenant))

    def replace_rules(self, claims: Claims, request: RoutingRulesRequest) -> RoutingRuleList:
        tenant = self.tenant(claims, request.tenant_id, admin=True)
        teams = self._store.team_ids(tenant)
        for rule in request.rules:
            if rule.action.value == "team" and (rule.team_id is None or id_param(rule.team_id, "team_id") not in teams):
                raise UnprocessableError(f"rule {rule.name!r}: no such team in this tenant", code="unknown_team")
            if rule.action.value == "bot_resolve" and rule.team_id is not None:
                raise BadRequestError(f"rule {rule.name!r}: bot_resolve takes no team", code="invalid_rule")
        normalized = [r.model_copy(update={"team_id": id_param(r.team_id, "team_id")}) for r in request.rules]
        return RoutingRuleList(tenant_id=tenant, items=self._store.replace_rules(claims, tenant, normalized))

    def settings(self, claims: Claims, tenant_id: str | None) -> SettingsView:
        tenant = self.tenant(claims, tenant_id)
        return SettingsView(tenant_id=tenant, settings=self._store.settings(tenant))

    def save_settings(self, claims: Claims, request: SettingsRequest) -> SettingsView:
        tenant = self.tenant(claims, request.tenant_id, admin=True)
        settings = request.settings
        if settings.default_team_id is not None:
            team = id_param(settings.default_team_id, "default_team_id")
            if team not in self._store.team_ids(tenant):
                raise UnprocessableError("default_team_id: no such team in this tenant", code="unknown_team")
            settings = settings.model_copy(update={"default_team_id": team})
        return SettingsView(tenant_id=tenant, settings=self._store.save_settings(claims, tenant, settings))

    # --- business hours ------------------------------------------------------------------------------

    def business_hours(self, claims: Claims, tenant_id: str | None) -> BusinessHoursView:
        tenant = self.tenant(claims, tenant_id)
        return BusinessHoursView(
            tenant_id=tenant,
            items=self._store.business_hours(tenant),
            national_holidays=_holidays(self._clock.now().year),
        )

    def replace_business_hours(self, claims: Claims, request: BusinessHoursRequest) -> BusinessHoursView:
        tenant = self.tenant(claims, request.tenant_id, admin=True)
        teams, instances = self._store.team_ids(tenant), self._store.instance_ids(tenant)
        items: list[BusinessHours] = []
        scopes: set[tuple[str | None, str | None]] = set()
        for item in request.items:
            team, instance = id_param(item.team_id, "team_id"), id_param(item.instance_id, "instance_id")
            if team is not None and instance is not None:
                raise BadRequestError("a schedule is the tenant's, an instance's or a team's", code="invalid_scope")
            if team is not None and team not in teams:
                raise UnprocessableError("no such team in this tenant", code="unknown_team")
            if instance is not None and instance not in instances:
                raise UnprocessableError("no such instance in this tenant", code="unknown_instance")
            if (instance, team) in scopes:
                raise BadRequestError("one schedule per scope", code="duplicate_scope")
            scopes.add((instance, team))
            items.append(item.model_copy(update={"team_id": team, "instance_id": instance}))
        saved = self._store.replace_business_hours(claims, tenant, items)
        return BusinessHoursView(tenant_id=tenant, items=saved, national_holidays=_holidays(self._clock.now().year))


def _holidays(year: int) -> list[HolidayView]:
    found = {**national_holidays(year), **national_holidays(year + 1)}
    return [HolidayView(date=day, name=name) for day, name in sorted(found.items())]


def _id(value: str | None, name: str) -> str:
    found = id_param(value, name)
    if found is None:
        raise BadRequestError(f"{name} is not an id", code=f"invalid_{name}")
    return found
