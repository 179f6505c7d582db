"""Notes, teams, presence, routing rules and settings in PostgreSQL (``ponte.ports.operations``)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import psycopg
from psycopg.types.json import Jsonb

from ponte.adapters.postgres.db import Database
from ponte.adapters.postgres.lifecycle import read_rules, read_settings
from ponte.domain.operations import OperationsSettings
from ponte.domain.operations_api import AgentView, BusinessHours, NoteView, PresenceView, TeamRequest, TeamView
from ponte.domain.routing import RoutingRule
from ponte.ports.lifecycle import Claims
from ponte.ports.operations import OperationsStore, TeamNameTakenError

_NOTE_COLUMNS = "id::text, conversation_id::text, author_id::text, body, mentions::text[] as mentions, created_at"
_TEAM = (
    "select t.id::text, t.tenant_id::text, t.name, t.assignment_order, t.auto_assign, t.agent_capacity, t.fair_limit,"
    " t.fair_window_seconds, t.created_at,"
    " array(select m.user_id::text from public.team_members m where m.team_id = t.id order by m.user_id) as members"
    " from public.teams t"
)


class PgOperationsStore(OperationsStore):
    def __init__(self, db: Database) -> None:
        self._db = db

    def conversation_tenant(self, claims: Claims, conversation_id: str) -> str | None:
        with self._db.as_user(claims) as conn:
            row = conn.execute(
                "select tenant_id::text from public.conversations where id = %s", (conversation_id,)
            ).fetchone()
        return row["tenant_id"] if row else None

    def members(self, tenant_id: str, user_ids: list[str]) -> set[str]:
        with self._db.as_service(tenant_id) as conn:
            rows = conn.execute(
                "select user_id::text from public.memberships where tenant_id = %s and user_id = any(%s::uuid[])",
                (tenant_id, user_ids),
            ).fetchall()
        return {r["user_id"] for r in rows}

    def add_note(
        self, claims: Claims, tenant_id: str, conversation_id: str, body: str, mentions: list[str]
    ) -> NoteView:
        with self._db.as_user(claims) as conn:
            row = conn.execute(
                "insert into public.conversation_notes (tenant_id, conversation_id, author_id, body, mentions)"
                f" values (%s, %s, (select auth.uid()), %s, %s::uuid[]) returning {_NOTE_COLUMNS}",
                (tenant_id, conversation_id, body, mentions),
            ).fetchone()
        assert row is not None
        return NoteView.model_validate(row)

    def notes(
        self, claims: Claims, conversation_id: str, before: tuple[datetime, str] | None, limit: int
    ) -> list[NoteView] | None:
        cut = "and (created_at, id) < (%s, %s::uuid)" if before else ""
        with self._db.as_user(claims) as conn:
            if conn.execute("select 1 from public.conversations where id = %s", (conversation_id,)).fetchone() is None:
                return None
            rows = conn.execute(
                f"select {_NOTE_COLUMNS} from public.conversation_notes where conversation_id = %s {cut}"
                " order by created_at desc, id desc limit %s",
                [conversation_id, *(before or ()), limit + 1],
            ).fetchall()
        return [NoteView.model_validate(r) for r in rows]

    def teams(self, claims: Claims, tenant_id: str) -> list[TeamView]:
        with self._db.as_user(claims) as conn:
            rows = conn.execute(f"{_TEAM} where t.tenant_id = %s order by lower(t.name)", (tenant_id,)).fetchall()
        return [TeamView.model_validate(r) for r in rows]

    def save_team(self, claims: Claims, tenant_id: str, team_id: str | None, request: TeamRequest) -> TeamView | None:
        try:
            return self._save_team(claims, tenant_id, team_id, request)
        except psycopg.errors.UniqueViolation as exc:
            raise TeamNameTakenError(request.name) from exc

    def _save_team(self, claims: Claims, tenant_id: str, team_id: str | None, request: TeamRequest) -> TeamView | None:
        values = request.model_dump(exclude={"tenant_id"})
        values["assignment_order"] = request.assignment_order.value
        with self._db.as_user(claims) as conn:
            if team_id is None:
                row = conn.execute(
                    "insert into public.teams (tenant_id, name, assignment_order, auto_assign, agent_capacity,"
                    " fair_limit, fair_window_seconds) values (%(tenant)s, %(name)s, %(assignment_order)s,"
                    " %(auto_assign)s, %(agent_capacity)s, %(fair_limit)s, %(fair_window_seconds)s) returning id::text",
                    {**values, "tenant": tenant_id},
                ).fetchone()
            else:
                row = conn.execute(
                    "update public.teams set name = %(name)s, assignment_order = %(assignment_order)s,"
                    " auto_assign = %(auto_assign)s, agent_capacity = %(agent_capacity)s, fair_limit = %(fair_limit)s,"
                    " fair_window_seconds = %(fair_window_seconds)s where id = %(id)s and tenant_id = %(tenant)s"
                    " returning id::text",
                    {**values, "tenant": tenant_id, "id": team_id},
                ).fetchone()
            if row is None:
                return None
            team = conn.execute(f"{_TEAM} where t.id = %s", (row["id"],)).fetchone()
        return TeamView.model_validate(team)

    def set_members(self, claims: Claims, tenant_id: str, team_id: str, user_ids: list[str]) -> TeamView | None:
        with self._db.as_user(claims) as conn:
            found = conn.execute(
                "select 1 from public.teams where id = %s and tenant_id = %s for update", (team_id, tenant_id)
            ).fetchone()
            if found is None:
                return None
            conn.execute(
                "delete from public.team_members where team_id = %s and not (user_id = any(%s::uuid[]))",
                (team_id, user_ids),
            )
            conn.execute(
                "insert into public.team_members (tenant_id, team_id, user_id)"
                " select %s, %s, u from unnest(%s::uuid[]) u on conflict do nothing",
                (tenant_id, team_id, user_ids),
            )
            team = conn.execute(f"{_TEAM} where t.id = %s", (team_id,)).fetchone()
        return TeamView.model_validate(team)

    def heartbeat(self, claims: Claims, tenant_id: str, status: str, ttl_seconds: int) -> PresenceView:
        with self._db.as_user(claims) as conn:
            row = conn.execute(
                "insert into public.agent_presence (tenant_id, user_id, status, last_seen_at, changed_at)"
                " values (%s, (select auth.uid()), %s, now(), now())"
                " on conflict (tenant_id, user_id) do update set status = excluded.status, last_seen_at = now(),"
                " changed_at = case when public.agent_presence.status = excluded.status"
                "   then public.agent_presence.changed_at else now() end"
                " returning tenant_id::text, user_id::text, status, last_seen_at",
                (tenant_id, status),
            ).fetchone()
        assert row is not None
        return PresenceView(**row, expires_at=row["last_seen_at"] + timedelta(seconds=ttl_seconds))

    def agents(self, tenant_id: str, ttl_seconds: int) -> list[AgentView]:
        with self._db.as_service(tenant_id) as conn:
            rows = conn.execute(
                "select m.user_id::text, m.tenant_id::text, u.email, m.role,"
                " case when p.last_seen_at > now() - make_interval(secs => %(ttl)s) then p.status else 'offline' end"
                "   as presence, p.last_seen_at,"
                " array(select tm.team_id::text from public.team_members tm"
                "   where tm.tenant_id = m.tenant_id and tm.user_id = m.user_id order by tm.team_id) as team_ids,"
                " (select count(*) from public.conversations c where c.tenant_id = m.tenant_id"
                "   and c.assigned_to = m.user_id and c.state in ('in_service', 'snoozed')) as open_conversations"
                " from public.memberships m left join private.member_emails(%(tenant)s) u on u.user_id = m.user_id"
                " left join public.agent_presence p on p.tenant_id = m.tenant_id and p.user_id = m.user_id"
                " where m.tenant_id = %(tenant)s order by u.email nulls last, m.user_id",
                {"ttl": ttl_seconds, "tenant": tenant_id},
            ).fetchall()
        return [AgentView.model_validate(r) for r in rows]

    def rules(self, tenant_id: str) -> list[RoutingRule]:
        with self._db.as_service(tenant_id) as conn:
            return list(read_rules(conn, tenant_id))

    def replace_rules(self, claims: Claims, tenant_id: str, rules: list[RoutingRule]) -> list[RoutingRule]:
        with self._db.as_user(claims) as conn:
            conn.execute("delete from public.routing_rules where tenant_id = %s", (tenant_id,))
            for position, rule in enumerate(rules):
                conn.execute(
                    "insert into public.routing_rules (tenant_id, position, name, conditions, action, team_id, enabled)"
                    " values (%s, %s, %s, %s, %s, %s, %s)",
                    (tenant_id, position, rule.name, Jsonb(rule.conditions.model_dump(mode="json")),
                     rule.action.value, rule.team_id, rule.enabled),
                )  # fmt: skip
            return list(read_rules(conn, tenant_id))

    def team_ids(self, tenant_id: str) -> set[str]:
        with self._db.as_service(tenant_id) as conn:
            rows = conn.execute("select id::text from public.teams where tenant_id = %s", (tenant_id,)).fetchall()
        return {r["id"] for r in rows}

    def settings(self, tenant_id: str) -> OperationsSettings:
        with self._db.as_service(tenant_id) as conn:
            return read_settings(conn, tenant_id)

    def save_settings(self, claims: Claims, tenant_id: str, settings: OperationsSettings) -> OperationsSettings:
        data: Any = Jsonb(settings.model_dump(mode="json"))
        with self._db.as_user(claims) as conn:
            conn.execute(
                "insert into public.operations_settings (tenant_id, settings, updated_by, updated_at)"
                " values (%s, %s, (select auth.uid()), now()) on conflict (tenant_id) do update"
                " set settings = excluded.settings, updated_by = excluded.updated_by, updated_at = now()",
                (tenant_id, data),
            )
            return read_settings(conn, tenant_id)

    def business_hours(self, tenant_id: str) -> list[BusinessHours]:
        with self._db.as_service(tenant_id) as conn:
            return _business_hours(conn, tenant_id)

    def replace_business_hours(self, claims: Claims, tenant_id: str, items: list[BusinessHours]) -> list[BusinessHours]:
        with self._db.as_user(claims) as conn:
            conn.execute("delete from public.business_hours where tenant_id = %s", (tenant_id,))
            for item in items:
                conn.execute(
                    "insert into public.business_hours (tenant_id, instance_id, team_id, schedule)"
                    " values (%s, %s, %s, %s)",
                    (tenant_id, item.instance_id, item.team_id, Jsonb(item.schedule.model_dump(mode="json"))),
                )
            return _business_hours(conn, tenant_id)

    def instance_ids(self, tenant_id: str) -> set[str]:
        with self._db.as_service(tenant_id) as conn:
            rows = conn.execute(
                "select id::text from public.whatsapp_instances where tenant_id = %s", (tenant_id,)
            ).fetchall()
        return {r["id"] for r in rows}


def _business_hours(conn: psycopg.Connection[Any], tenant_id: str) -> list[BusinessHours]:
    rows = conn.execute(
        "select instance_id::text, team_id::text, schedule from public.business_hours where tenant_id = %s"
        " order by instance_id nulls first, team_id nulls first",
        (tenant_id,),
    ).fetchall()
    return [BusinessHours.model_validate(r) for r in rows]
