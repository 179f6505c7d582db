"""Storage of notes, teams, presence, routing rules and settings: reads under the caller's RLS,
configuration written under it too (admins only, by policy)."""

from __future__ import annotations

from abc import ABC, abstractmethod
from datetime import datetime

from ponte.domain.operations import OperationsSettings
from ponte.domain.operations_api import AgentView, BusinessHours, NoteView, PresenceView, TeamRequest, TeamView
from ponte.domain.routing import RoutingRule
from ponte.ports.lifecycle import Claims


class TeamNameTakenError(Exception):
    """The tenant already has a team with that name (names are unique, case ignored)."""


class OperationsStore(ABC):
    @abstractmethod
    def conversation_tenant(self, claims: Claims, conversation_id: str) -> str | None: ...

    @abstractmethod
    def members(self, tenant_id: str, user_ids: list[str]) -> set[str]:
        """Those of ``user_ids`` who are members of the tenant."""

    @abstractmethod
    def add_note(
        self, claims: Claims, tenant_id: str, conversation_id: str, body: str, mentions: list[str]
    ) -> NoteView: ...

    @abstractmethod
    def notes(
        self, claims: Claims, conversation_id: str, before: tuple[datetime, str] | None, limit: int
    ) -> list[NoteView] | None: ...

    @abstractmethod
    def teams(self, claims: Claims, tenant_id: str) -> list[TeamView]: ...

    @abstractmethod
    def save_team(self, claims: Claims, tenant_id: str, team_id: str | None, request: TeamRequest) -> TeamView | None:
        """Create (``team_id`` None) or update; None when no such team of the tenant."""

    @abstractmethod
    def set_members(self, claims: Claims, tenant_id: str, team_id: str, user_ids: list[str]) -> TeamView | None: ...

    @abstractmethod
    def heartbeat(self, claims: Claims, tenant_id: str, status: str, ttl_seconds: int) -> PresenceView: ...

    @abstractmethod
    def agents(self, tenant_id: str, ttl_seconds: int) -> list[AgentView]: ...

    @abstractmethod
    def rules(self, tenant_id: str) -> list[RoutingRule]: ...

    @abstractmethod
    def replace_rules(self, claims: Claims, tenant_id: str, rules: list[RoutingRule]) -> list[RoutingRule]: ...

    @abstractmethod
    def team_ids(self, tenant_id: str) -> set[str]: ...

    @abstractmethod
    def settings(self, tenant_id: str) -> OperationsSettings: ...

    @abstractmethod
    def save_settings(self, claims: Claims, tenant_id: str, settings: OperationsSettings) -> OperationsSettings: ...

    @abstractmethod
    def business_hours(self, tenant_id: str) -> list[BusinessHours]: ...

    @abstractmethod
    def replace_business_hours(self, claims: Claims, tenant_id: str, items: list[BusinessHours]) -> list[BusinessHours]:
        """All of the tenant's schedules at once (admins, by policy)."""

    @abstractmethod
    def instance_ids(self, tenant_id: str) -> set[str]: ...
