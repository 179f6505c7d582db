"""The lifecycle's storage: the conversation's row lock, its transitions and events, the replies'
clocks, and automatic assignment with ``FOR UPDATE SKIP LOCKED`` (``ponte.ports.lifecycle``)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from typing import Any, cast

import psycopg
from pydantic import ValidationError

from ponte.adapters.postgres.db import Database
from ponte.domain.assignment import AgentLoad, AssignmentOrder, TeamPolicy, after_assignment, pick_agent
from ponte.domain.business_hours import Schedule, business_seconds
from ponte.domain.lifecycle import Action, Actor, ActorType, Assign, Lifecycle, State, Transition, decide
from ponte.domain.operations import OperationsSettings
from ponte.domain.operations_api import EventView
from ponte.domain.routing import RoutingFacts, RoutingRule
from ponte.ports.lifecycle import (
    Access,
    Claims,
    ConversationState,
    InboundMessage,
    LifecycleStore,
    LifecycleUnit,
    OutboundOrigin,
    Role,
)

# Protocol numbers and their day follow the tenant's local calendar (Brazil by default).
PROTOCOL_TIME_ZONE = "America/Sao_Paulo"

_CONVERSATION = """
select c.id::text as id, c.tenant_id::text as tenant_id, c.instance_id::text as instance_id, c.state, c.cycle,
  c.team_id::text as team_id, c.assigned_to::text as assigned_to, c.snoozed_until, c.protocol, k.display_name,
  c.cycle_started_at, c.state_changed_at, c.queued_at, c.assigned_at, c.waiting_since, c.first_response_at,
  c.previous_assignee::text as previous_assignee, c.csat_requested_at,
  exists (select 1 from public.csat_responses r where r.conversation_id = c.id and r.cycle = c.cycle) as csat_answered,
  c.sla_due_at, c.sla_breach_recorded_for
from public.conversations c join public.contacts k on k.id = c.contact_id
"""

_EVENT_COLUMNS = (
    "id, conversation_id::text, cycle, kind, action, from_state, to_state, actor_type, actor_id::text, reason,"
    " team_id::text, agent_id::text, message_id::text, value_seconds, occurred_at"
)

# most urgent first, then the SLA that breaks first, then the longest in the queue
_QUEUE_ORDER = (
    "array_position(array['critical', 'high', 'medium', 'low'], c.priority), c.sla_due_at nulls last, c.queued_at, c.id"
)


def conversation_state(row: dict[str, Any]) -> ConversationState:
    return ConversationState(
        id=row["id"],
        tenant_id=row["tenant_id"],
        instance_id=row["instance_id"],
        lifecycle=Lifecycle(
            state=State(row["state"]),
            cycle=row["cycle"],
            team_id=row["team_id"],
            assignee_id=row["assigned_to"],
            snoozed_until=row["snoozed_until"],
        ),
        protocol=row["protocol"],
        contact_name=row["display_name"],
        cycle_started_at=row["cycle_started_at"],
        state_changed_at=row["state_changed_at"],
        queued_at=row["queued_at"],
        assigned_at=row["assigned_at"],
        waiting_since=row["waiting_since"],
        first_response_at=row["first_response_at"],
        previous_assignee=row["previous_assignee"],
        csat_requested_at=row["csat_requested_at"],
        csat_answered=row["csat_answered"],
        sla_due_at=row["sla_due_at"],
        sla_breach_recorded_for=row["sla_breach_recorded_for"],
    )


def event_view(row: dict[str, Any]) -> EventView:
    return EventView.model_validate(row)


def _next_protocol(conn: psycopg.Connection[Any], tenant_id: str, at: datetime) -> str:
    row = conn.execute(
        "select private.next_protocol(%s, (%s::timestamptz at time zone %s)::date) as protocol",
        (tenant_id, at, PROTOCOL_TIME_ZONE),
    ).fetchone()
    assert row is not None
    return str(row["protocol"])


def insert_event(
    conn: psycopg.Connection[Any],
    conversation: ConversationState,
    *,
    kind: str,
    at: datetime,
    actor: Actor,
    cycle: int | None = None,
    action: Action | None = None,
    from_state: State | None = None,
    to_state: State | None = None,
    reason: str | None = None,
    team_id: str | None = None,
    agent_id: str | None = None,
    message_id: str | None = None,
    value_seconds: float | None = None,
    business_seconds: float | None = None,
    sla_due_at: datetime | None = None,
) -> EventView | None:
    """One ``conversation_events`` row; None when a reply of that message was already counted."""
    row = conn.execute(
        "insert into public.conversation_events (tenant_id, conversation_id, instance_id, cycle, kind, action,"
        " from_state, to_state, actor_type, actor_id, reason, team_id, agent_id, message_id, value_seconds,"
        " business_seconds, sla_due_at, occurred_at)"
        " values (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)"
        " on conflict (message_id, kind) where message_id is not null and kind in ('first_response', 'reply')"
        f" do nothing returning {_EVENT_COLUMNS}",
        (
            conversation.tenant_id,
            conversation.id,
            conversation.instance_id,
            cycle if cycle is not None else conversation.lifecycle.cycle,
            kind,
            action.value if action else None,
            from_state.value if from_state else None,
            to_state.value if to_state else None,
            actor.type.value,
            actor.id if actor.type.value == "agent" else None,
            reason,
            team_id,
            agent_id,
            message_id,
            value_seconds,
            business_seconds,
            sla_due_at,
            at,
        ),
    ).fetchone()
    return event_view(row) if row else None


def apply_transition(
    conn: psycopg.Connection[Any],
    conversation: ConversationState,
    transition: Transition,
    at: datetime,
    *,
    value_seconds: float | None = None,
    business_seconds: float | None = None,
) -> EventView:
    before, after = transition.before, transition.after
    sets: dict[str, Any] = {
        "state": after.state.value,
        "status": "closed" if after.state is State.RESOLVED else "open",
        "team_id": after.team_id,
        "assigned_to": after.assignee_id,
        "snoozed_until": after.snoozed_until,
        "state_changed_at": at,
    }
    if transition.new_cycle:
        sets.update(
            cycle=after.cycle,
            cycle_started_at=at,
            protocol=_next_protocol(conn, conversation.tenant_id, at),
            first_response_at=None,
            queued_at=None,
            assigned_at=None,
            csat_requested_at=None,
            previous_assignee=None,
        )
    if after.state is State.WAITING and (before.state is not State.WAITING or before.team_id != after.team_id):
        sets["queued_at"] = at
    if after.assignee_id != before.assignee_id:
        sets["assigned_at"] = at if after.assignee_id else None
        if before.assignee_id and transition.action is Action.TRANSFER:
            sets["previous_assignee"] = before.assignee_id
    if after.state is State.RESOLVED:
        sets.update(waiting_since=None, sla_due_at=None)
    assignments = ", ".join(f"{column} = %({column})s" for column in sets)
    conn.execute(f"update public.conversations set {assignments} where id = %(id)s", {**sets, "id": conversation.id})
    event = insert_event(
        conn,
        conversation,
        kind="transition",
        at=at,
        actor=transition.actor,
        cycle=after.cycle,
        action=transition.action,
        from_state=transition.from_state,
        to_state=transition.to_state,
        reason=transition.reason,
        team_id=after.team_id,
        agent_id=after.assignee_id,
        value_seconds=value_seconds,
        business_seconds=business_seconds,
    )
    assert event is not None
    return event


class PgLifecycleUnit(LifecycleUnit):
    def __init__(self, conn: psycopg.Connection[Any], conversation: ConversationState) -> None:
        self._conn = conn
        self.conversation = conversation

    def _reload(self) -> None:
        row = self._conn.execute(f"{_CONVERSATION} where c.id = %s", (self.conversation.id,)).fetchone()
        assert row is not None
        self.conversation = conversation_state(row)

    def apply(
        self,
        transition: Transition,
        at: datetime,
        *,
        value_seconds: float | None = None,
        business_seconds: float | None = None,
    ) -> EventView:
        event = apply_transition(
            self._conn,
            self.conversation,
            transition,
            at,
            value_seconds=value_seconds,
            business_seconds=business_seconds,
        )
        self._reload()
        return event

    def record_open(self, at: datetime) -> EventView:
        c = self.conversation
        protocol = c.protocol or _next_protocol(self._conn, c.tenant_id, at)
        self._conn.execute(
            "update public.conversations set protocol = %s, cycle_started_at = coalesce(cycle_started_at, %s)"
            " where id = %s",
            (protocol, at, c.id),
        )
        event = insert_event(
            self._conn, c, kind="transition", at=at, actor=Actor(type=ActorType.CUSTOMER), action=Action.OPEN,
            to_state=c.lifecycle.state, reason="customer_message", team_id=c.lifecycle.team_id,
            agent_id=c.lifecycle.assignee_id,
        )  # fmt: skip
        self._reload()
        assert event is not None
        return event

    def customer_waits(self, at: datetime) -> None:
        self._conn.execute(
            "update public.conversations set waiting_since = %s where id = %s and waiting_since is null",
            (at, self.conversation.id),
        )
        self._reload()

    def record_reply(
        self, message_id: str, agent_id: str | None, at: datetime, schedule: Schedule | None = None
    ) -> list[EventView]:
        c = self.conversation
        if c.cycle_started_at is not None and at < c.cycle_started_at:
            return []  # a reply of an earlier cycle (a late echo): its clocks are closed
        actor = Actor.agent(agent_id) if agent_id else Actor(type=ActorType.AGENT)
        events: list[EventView] = []
        team = c.lifecycle.team_id
        if c.waiting_since is not None and at >= c.waiting_since:
            found = insert_event(
                self._conn, c, kind="reply", at=at, actor=actor, agent_id=agent_id, message_id=message_id,
                team_id=team, value_seconds=(at - c.waiting_since).total_seconds(),
                business_seconds=business_seconds(schedule, c.waiting_since, at), sla_due_at=c.sla_due_at,
            )  # fmt: skip
            events += [found] if found else []
        if c.first_response_at is None and c.cycle_started_at is not None:
            found = insert_event(
                self._conn, c, kind="first_response", at=at, actor=actor, agent_id=agent_id, message_id=message_id,
                team_id=team, value_seconds=(at - c.cycle_started_at).total_seconds(),
                business_seconds=business_seconds(schedule, c.cycle_started_at, at), sla_due_at=c.sla_due_at,
            )  # fmt: skip
            events += [found] if found else []
        if events:
            late = self.record_sla_breach(at)
            events += [late] if late else []
        self._conn.execute(
            "update public.conversations set waiting_since = null, sla_due_at = null,"
            " first_response_at = coalesce(first_response_at, %s) where id = %s",
            (at, c.id),
        )
        self._reload()
        return events

    def record_sla_breach(self, at: datetime) -> EventView | None:
        c = self.conversation
        due = c.sla_due_at
        if due is None or at <= due or c.sla_breach_recorded_for == due:
            return None
        self._conn.execute("update public.conversations set sla_breach_recorded_for = %s where id = %s", (due, c.id))
        event = insert_event(
            self._conn, c, kind="sla_breach", at=at, actor=Actor.system(), team_id=c.lifecycle.team_id,
            agent_id=c.lifecycle.assignee_id, value_seconds=(at - due).total_seconds(), sla_due_at=due,
        )  # fmt: skip
        self._reload()
        return event

    def record_csat(self, score: int, message_id: str, at: datetime) -> bool:
        c = self.conversation
        row = self._conn.execute(
            "insert into public.csat_responses (tenant_id, conversation_id, cycle, protocol, score, message_id,"
            " agent_id, team_id, answered_at) values (%s, %s, %s, %s, %s, %s, %s, %s, %s)"
            " on conflict (conversation_id, cycle) do nothing returning id",
            (c.tenant_id, c.id, c.lifecycle.cycle, c.protocol, score, message_id, c.lifecycle.assignee_id,
             c.lifecycle.team_id, at),
        ).fetchone()  # fmt: skip
        if row is None:
            return False
        insert_event(
            self._conn, c, kind="csat", at=at, actor=Actor(type=ActorType.CUSTOMER), reason=f"score:{score}",
            team_id=c.lifecycle.team_id, agent_id=c.lifecycle.assignee_id, value_seconds=float(score),
        )  # fmt: skip
        self._reload()
        return True

    def mark_csat_requested(self, at: datetime) -> None:
        self._conn.execute(
            "update public.conversations set csat_requested_at = %s where id = %s", (at, self.conversation.id)
        )
        self._reload()

    def schedule(self) -> Schedule | None:
        c = self.conversation
        return read_schedule(self._conn, c.tenant_id, c.instance_id, c.lifecycle.team_id)

    def member_role(self, user_id: str) -> Role | None:
        row = self._conn.execute(
            "select role from public.memberships where tenant_id = %s and user_id = %s::uuid",
            (self.conversation.tenant_id, user_id),
        ).fetchone()
        return cast(Role, row["role"]) if row else None

    def team_exists(self, team_id: str) -> bool:
        row = self._conn.execute(
            "select 1 from public.teams where tenant_id = %s and id = %s::uuid",
            (self.conversation.tenant_id, team_id),
        ).fetchone()
        return row is not None

    def add_note(self, author_id: str, body: str, mentions: tuple[str, ...]) -> str:
        row = self._conn.execute(
            "insert into public.conversation_notes (tenant_id, conversation_id, author_id, body, mentions)"
            " values (%s, %s, %s, %s, %s::uuid[]) returning id::text as id",
            (self.conversation.tenant_id, self.conversation.id, author_id, body, list(mentions)),
        ).fetchone()
        assert row is not None
        return str(row["id"])


class PgLifecycleStore(LifecycleStore):
    def __init__(self, db: Database) -> None:
        self._db = db

    def access(self, claims: Claims, conversation_id: str) -> Access | None:
        with self._db.as_user(claims) as conn:
            row = conn.execute(
                "select c.tenant_id::text as tenant_id, m.role, m.user_id::text as user_id"
                " from public.conversations c join public.memberships m"
                "   on m.tenant_id = c.tenant_id and m.user_id = (select auth.uid())"
                " where c.id = %s",
                (conversation_id,),
            ).fetchone()
        return Access.model_validate(row) if row else None

    def events(self, claims: Claims, conversation_id: str, limit: int = 500) -> list[EventView] | None:
        with self._db.as_user(claims) as conn:
            if conn.execute("select 1 from public.conversations where id = %s", (conversation_id,)).fetchone() is None:
                return None
            rows = conn.execute(
                f"select {_EVENT_COLUMNS} from public.conversation_events where conversation_id = %s"
                " order by id desc limit %s",
                (conversation_id, limit),
            ).fetchall()
        return [event_view(r) for r in reversed(rows)]

    @contextmanager
    def unit(self, tenant_id: str, conversation_id: str) -> Iterator[LifecycleUnit | None]:
        with self._db.as_service(tenant_id) as conn:
            row = conn.execute(
                f"{_CONVERSATION} where c.id = %s and c.tenant_id = %s for update of c", (conversation_id, tenant_id)
            ).fetchone()
            yield PgLifecycleUnit(conn, conversation_state(row)) if row else None

    def settings(self, tenant_id: str) -> OperationsSettings:
        with self._db.as_service(tenant_id) as conn:
            return read_settings(conn, tenant_id)

    def routing_rules(self, tenant_id: str) -> tuple[RoutingRule, ...]:
        with self._db.as_service(tenant_id) as conn:
            return read_rules(conn, tenant_id)

    def schedule(self, tenant_id: str, instance_id: str, team_id: str | None) -> Schedule | None:
        with self._db.as_service(tenant_id) as conn:
            return read_schedule(conn, tenant_id, instance_id, team_id)

    def routing_facts(self, tenant_id: str, message_id: str) -> RoutingFacts | None:
        with self._db.as_service(tenant_id) as conn:
            row = conn.execute(
                "select m.instance_id::text as instance_id, coalesce(x.intent, a.intent) as intent, a.urgency,"
                " coalesce(x.sentiment, a.sentiment) as sentiment, a.priority"
                " from public.messages m left join public.message_analyses a on a.message_id = m.id"
                " left join public.analysis_corrections x on x.message_id = m.id"
                " where m.id = %s and m.tenant_id = %s",
                (message_id, tenant_id),
            ).fetchone()
        return RoutingFacts.model_validate(row) if row else None

    def inbound_messages(self, tenant_id: str, message_ids: list[str]) -> list[InboundMessage]:
        with self._db.as_service(tenant_id) as conn:
            rows = conn.execute(
                "select id::text, kind, body, occurred_at from public.messages"
                " where tenant_id = %s and id = any(%s::uuid[]) and direction = 'in' order by occurred_at, id",
                (tenant_id, message_ids),
            ).fetchall()
        return [InboundMessage.model_validate(r) for r in rows]

    def outbound_origins(self, tenant_id: str, message_ids: list[str]) -> list[OutboundOrigin]:
        with self._db.as_service(tenant_id) as conn:
            rows = conn.execute(
                "select m.id::text as message_id, m.occurred_at, o.origin, o.created_by::text as author_id"
                " from public.messages m left join lateral ("
                "   select ob.origin, ob.created_by, ob.created_at from public.outbound_messages ob"
                "   where ob.message_id = m.id"
                "   union all"
                "   select ob.origin, ob.created_by, ob.created_at from public.outbound_messages ob"
                "   where ob.tenant_id = m.tenant_id and ob.instance_id = m.instance_id and ob.chat_key = m.chat_key"
                "   and ob.provider_message_id = m.provider_message_id"
                "   order by created_at limit 1) o on true"
                " where m.tenant_id = %s and m.id = any(%s::uuid[]) and m.direction = 'out' order by m.occurred_at",
                (tenant_id, message_ids),
            ).fetchall()
        return [OutboundOrigin.model_validate(r) for r in rows]

    def assign_waiting(
        self, tenant_id: str, team_id: str | None, now: datetime, settings: OperationsSettings, limit: int = 50
    ) -> list[tuple[str, str]]:
        assigned: list[tuple[str, str]] = []
        with self._db.as_service(tenant_id) as conn:
            # the team rows stay locked to the commit: two passes over one team never both hand out
            # the same agent's last unit of capacity
            teams = conn.execute(
                "select id::text as id, assignment_order, agent_capacity, fair_limit, fair_window_seconds"
                " from public.teams where tenant_id = %s and auto_assign and (%s::uuid is null or id = %s::uuid)"
                " order by id for update",
                (tenant_id, team_id, team_id),
            ).fetchall()
            for team in teams:
                assigned += self._assign_team(
                    conn=conn, tenant_id=tenant_id, team=team, now=now, settings=settings, limit=limit
                )
        return assigned

    def _assign_team(
        self,
        *,
        conn: psycopg.Connection[Any],
        tenant_id: str,
        team: dict[str, Any],
        now: datetime,
        settings: OperationsSettings,
        limit: int,
    ) -> list[tuple[str, str]]:
        rows = conn.execute(
            f"{_CONVERSATION} where c.tenant_id = %s and c.team_id = %s and c.state = 'waiting'"
            f" and c.assigned_to is null order by {_QUEUE_ORDER} limit %s for update of c skip locked",
            (tenant_id, team["id"], limit),
        ).fetchall()
        if not rows:
            return []
        policy = TeamPolicy(
            order=AssignmentOrder(team["assignment_order"]),
            agent_capacity=team["agent_capacity"],
            fair_limit=team["fair_limit"],
        )
        agents = team_loads(
            conn=conn, tenant_id=tenant_id, team_id=team["id"], now=now, settings=settings,
            window_seconds=team["fair_window_seconds"],
        )  # fmt: skip
        cooldown = timedelta(seconds=settings.reassign_cooldown_seconds)
        done: list[tuple[str, str]] = []
        for row in rows:
            conversation = conversation_state(row)
            excluded: frozenset[str] = frozenset()
            if conversation.previous_assignee and conversation.queued_at and now - conversation.queued_at < cooldown:
                excluded = frozenset({conversation.previous_assignee})
            agent = pick_agent(agents, policy, excluded)
            if agent is None:
                continue
            command = Assign(actor=Actor.system(), agent_id=agent, team_id=team["id"],
                             reason=f"auto_assign:{policy.order.value}")  # fmt: skip
            transition = decide(conversation.lifecycle, command, now)
            waited = (now - conversation.queued_at).total_seconds() if conversation.queued_at else None
            apply_transition(conn, conversation, transition, now, value_seconds=waited)
            conn.execute(
                "update public.team_members set last_assigned_at = %s where team_id = %s and user_id = %s",
                (now, team["id"], agent),
            )
            agents = after_assignment(agents, agent, now)
            done.append((conversation.id, agent))
        return done

    def queue_position(self, tenant_id: str, conversation_id: str) -> tuple[int, float | None] | None:
        with self._db.as_service(tenant_id) as conn:
            row = conn.execute(
                "with me as (select c.id, c.team_id, c.priority, c.sla_due_at, c.queued_at from public.conversations c"
                "   where c.id = %(id)s and c.tenant_id = %(tenant)s and c.state = 'waiting')"
                " select (select count(*) from public.conversations c, me where c.tenant_id = %(tenant)s"
                "   and c.state = 'waiting' and c.team_id is not distinct from me.team_id"
                "   and (array_position(array['critical', 'high', 'medium', 'low'], c.priority),"
                "        coalesce(c.sla_due_at, 'infinity'), c.queued_at, c.id)"
                "     < (array_position(array['critical', 'high', 'medium', 'low'], me.priority),"
                "        coalesce(me.sla_due_at, 'infinity'), me.queued_at, me.id)) + 1 as position,"
                " (select percentile_cont(0.5) within group (order by e.value_seconds)"
                "   from public.conversation_events e, me where e.tenant_id = %(tenant)s and e.action = 'assign'"
                "   and e.team_id is not distinct from me.team_id and e.occurred_at > now() - interval '1 day'"
                "   and e.value_seconds is not null) as median_wait"
                " from me",
                {"id": conversation_id, "tenant": tenant_id},
            ).fetchone()
        return (int(row["position"]), row["median_wait"]) if row else None

    def due_snoozes(self, now: datetime, limit: int = 200) -> list[tuple[str, str]]:
        with self._db.as_service(None) as conn:
            rows = conn.execute(
                "select tenant_id::text, id::text from public.conversations"
                " where state = 'snoozed' and snoozed_until <= %s order by snoozed_until limit %s",
                (now, limit),
            ).fetchall()
        return [(r["tenant_id"], r["id"]) for r in rows]

    def stale_bots(self, now: datetime, limit: int = 200) -> list[tuple[str, str]]:
        with self._db.as_service(None) as conn:
            rows = conn.execute(
                "select c.tenant_id::text, c.id::text from public.conversations c"
                " left join public.operations_settings s on s.tenant_id = c.tenant_id"
                " where c.state = 'bot' and c.state_changed_at < %s - make_interval(secs =>"
                "   coalesce((s.settings ->> 'bot_timeout_seconds')::int, 120))"
                " order by c.state_changed_at limit %s",
                (now, limit),
            ).fetchall()
        return [(r["tenant_id"], r["id"]) for r in rows]

    def expire_presence(self, now: datetime) -> int:
        with self._db.as_service(None) as conn:
            cursor = conn.execute(
                "update public.agent_presence p set status = 'offline', changed_at = %s"
                " where p.status <> 'offline' and p.last_seen_at < %s - make_interval(secs => coalesce("
                "   (select (s.settings ->> 'presence_ttl_seconds')::int from public.operations_settings s"
                "    where s.tenant_id = p.tenant_id), 90))",
                (now, now),
            )
            return int(cursor.rowcount)

    def breached_slas(self, now: datetime, limit: int = 500) -> list[tuple[str, str]]:
        with self._db.as_service(None) as conn:
            rows = conn.execute(
                "select tenant_id::text, id::text from public.conversations"
                " where sla_due_at is not null and waiting_since is not null and sla_due_at < %s"
                " and sla_breach_recorded_for is distinct from sla_due_at and state <> 'resolved'"
                " order by sla_due_at limit %s",
                (now, limit),
            ).fetchall()
        return [(r["tenant_id"], r["id"]) for r in rows]

    def teams_with_queue(self) -> list[tuple[str, str | None]]:
        with self._db.as_service(None) as conn:
            rows = conn.execute(
                "select distinct c.tenant_id::text as tenant_id, c.team_id::text as team_id"
                " from public.conversations c join public.teams t on t.id = c.team_id and t.auto_assign"
                " where c.state = 'waiting' and c.assigned_to is null"
            ).fetchall()
        return [(r["tenant_id"], r["team_id"]) for r in rows]


def team_loads(
    *,
    conn: psycopg.Connection[Any],
    tenant_id: str,
    team_id: str,
    now: datetime,
    settings: OperationsSettings,
    window_seconds: int,
) -> list[AgentLoad]:
    rows = conn.execute(
        "select tm.user_id::text as user_id, tm.last_assigned_at,"
        " coalesce(p.status = 'online' and p.last_seen_at > %(now)s - make_interval(secs => %(ttl)s), false) as online,"
        " (select count(*) from public.conversations x where x.tenant_id = tm.tenant_id and x.assigned_to = tm.user_id"
        "   and x.state in ('in_service', 'snoozed')) as open_conversations,"
        " (select count(*) from public.conversation_events e where e.agent_id = tm.user_id and e.action = 'assign'"
        "   and e.actor_type = 'system' and e.tenant_id = tm.tenant_id"
        "   and e.occurred_at > %(now)s - make_interval(secs => %(window)s)) as assigned_in_window"
        " from public.team_members tm"
        " left join public.agent_presence p on p.tenant_id = tm.tenant_id and p.user_id = tm.user_id"
        " where tm.tenant_id = %(tenant)s and tm.team_id = %(team)s order by tm.user_id",
        {"now": now, "ttl": settings.presence_ttl_seconds, "window": window_seconds, "tenant": tenant_id,
         "team": team_id},
    ).fetchall()  # fmt: skip
    return [AgentLoad.model_validate(r) for r in rows]


def read_schedule(
    conn: psycopg.Connection[Any], tenant_id: str, instance_id: str, team_id: str | None
) -> Schedule | None:
    """The team's business hours, else the instance's, else the tenant's; None: always open."""
    row = conn.execute(
        "select schedule from public.business_hours where tenant_id = %s"
        " and (team_id = %s::uuid or instance_id = %s::uuid or (team_id is null and instance_id is null))"
        " order by (team_id is not null) desc, (instance_id is not null) desc limit 1",
        (tenant_id, team_id, instance_id),
    ).fetchone()
    if row is None:
        return None
    try:
        return Schedule.model_validate(row["schedule"])
    except ValidationError:  # written around the API: treated as always open rather than failing
        return None


def read_settings(conn: psycopg.Connection[Any], tenant_id: str) -> OperationsSettings:
    row = conn.execute("select settings from public.operations_settings where tenant_id = %s", (tenant_id,)).fetchone()
    if row is None:
        return OperationsSettings()
    try:
        return OperationsSettings.model_validate(row["settings"])
    except ValidationError:  # written around the API (it validates): the defaults rather than a failure
        return OperationsSettings()


def read_rules(conn: psycopg.Connection[Any], tenant_id: str) -> tuple[RoutingRule, ...]:
    rows = conn.execute(
        "select id::text, name, conditions, action, team_id::text, enabled from public.routing_rules"
        " where tenant_id = %s order by position",
        (tenant_id,),
    ).fetchall()
    rules = []
    for row in rows:
        try:
            rules.append(RoutingRule.model_validate(row))
        except ValidationError:
            continue  # a rule written around the API that no longer validates is skipped, not fatal
    return tuple(rules)
