"""What agents do to a conversation's lifecycle (assign, transfer, snooze, resolve) and the reply
clocks. Every transition is decided by the domain state machine under the conversation's row
lock, stored with its event, and broadcast on the tenant topic by the database."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta

from ponte.domain.business_hours import Schedule, business_seconds
from ponte.domain.lifecycle import (
    Action,
    Actor,
    Assign,
    Command,
    Resolve,
    Snooze,
    State,
    Transfer,
    Transition,
    TransitionRefusedError,
    decide,
)
from ponte.domain.lifecycle_job import LifecycleJob
from ponte.domain.operations_api import (
    AssignRequest,
    EventList,
    EventView,
    LifecycleView,
    ResolveRequest,
    SnoozeRequest,
    TransferRequest,
)
from ponte.ports.clock import Clock
from ponte.ports.lifecycle import Access, Claims, ConversationState, LifecycleQueue, LifecycleStore, LifecycleUnit
from ponte.services.exceptions import (
    BadRequestError,
    ConflictError,
    ForbiddenError,
    NotFoundError,
    UnprocessableError,
)
from ponte.services.paging import id_param

logger = logging.getLogger(__name__)

MAX_SNOOZE = timedelta(days=90)
ADMIN_ROLES = frozenset({"owner", "admin"})


def measured_since(transition: Transition, conversation: ConversationState) -> datetime | None:
    """Where what a transition measures starts: the queue wait of an assignment from the queue,
    the resolution time of a cycle (from its first customer message)."""
    if transition.action is Action.ASSIGN and transition.from_state is State.WAITING:
        return conversation.queued_at
    if transition.action is Action.RESOLVE:
        return conversation.cycle_started_at
    return None


def measured_seconds(transition: Transition, conversation: ConversationState, at: datetime) -> float | None:
    since = measured_since(transition, conversation)
    return max(0.0, (at - since).total_seconds()) if since else None


def apply_measured(unit: LifecycleUnit, transition: Transition, at: datetime, schedule: Schedule | None) -> EventView:
    """Store the transition with what it measured, wall clock and in business hours."""
    since = measured_since(transition, unit.conversation)
    if since is None:
        return unit.apply(transition, at)
    return unit.apply(
        transition,
        at,
        value_seconds=max(0.0, (at - since).total_seconds()),
        business_seconds=business_seconds(schedule, since, at),
    )


def lifecycle_view(conversation: ConversationState, event: EventView | None) -> LifecycleView:
    life = conversation.lifecycle
    return LifecycleView(
        conversation_id=conversation.id,
        state=life.state,
        status="closed" if life.state is State.RESOLVED else "open",
        cycle=life.cycle,
        protocol=conversation.protocol,
        team_id=life.team_id,
        assigned_to=life.assignee_id,
        snoozed_until=life.snoozed_until,
        state_changed_at=conversation.state_changed_at,
        event=event,
    )


def refused(exc: TransitionRefusedError) -> ConflictError:
    return ConflictError(exc.message, code=exc.code)


class LifecycleService:
    def __init__(
        self,
        store: LifecycleStore,
        *,
        queue: LifecycleQueue | None = None,
        clock: Clock | None = None,
    ) -> None:
        self._store = store
        self._queue = queue
        self._clock = clock or Clock()

    # --- agents' actions -----------------------------------------------------------------------

    def assign(self, claims: Claims, conversation_id: str, request: AssignRequest) -> LifecycleView:
        """Take it (``agent_id`` = the caller), give it to another agent (admins), or queue it for a team."""
        if (request.agent_id is None) == (request.team_id is None):
            raise BadRequestError("give exactly one of agent_id or team_id", code="invalid_assign")
        access = self._access(claims, conversation_id)
        agent = id_param(request.agent_id, "agent_id")
        team = id_param(request.team_id, "team_id")
        if agent is not None and agent != access.user_id and access.role not in ADMIN_ROLES:
            raise ForbiddenError("only owners and admins assign a conversation to someone else", code="forbidden")
        actor = Actor.agent(access.user_id)

        def command(unit: LifecycleUnit) -> Command:
            if agent is not None:
                self._check_agent(unit, agent)
                reason = "taken" if agent == access.user_id else "assigned_by_admin"
                return Assign(actor=actor, agent_id=agent, reason=reason)
            assert team is not None
            self._check_team(unit, team)
            return Transfer(actor=actor, team_id=team, reason="queued_by_agent")

        return self._act(access, conversation_id, command)

    def transfer(self, claims: Claims, conversation_id: str, request: TransferRequest) -> LifecycleView:
        if (request.agent_id is None) == (request.team_id is None):
            raise BadRequestError("give exactly one of agent_id or team_id", code="invalid_transfer")
        access = self._access(claims, conversation_id)
        agent = id_param(request.agent_id, "agent_id")
        team = id_param(request.team_id, "team_id")
        note = (request.note or "").strip()

        def command(unit: LifecycleUnit) -> Command:
            if agent is not None:
                self._check_agent(unit, agent)
            if team is not None:
                self._check_team(unit, team)
            if note:
                unit.add_note(access.user_id, note, (agent,) if agent else ())
            return Transfer(actor=Actor.agent(access.user_id), agent_id=agent, team_id=team, reason="transfer")

        return self._act(access, conversation_id, command)

    def snooze(self, claims: Claims, conversation_id: str, request: SnoozeRequest) -> LifecycleView:
        until = request.until
        now = self._clock.now()
        if until is not None:
            if until.tzinfo is None:
                raise BadRequestError("until must carry a time zone", code="invalid_time")
            if until - now > MAX_SNOOZE:
                raise BadRequestError("snooze at most 90 days", code="snooze_too_long")
        access = self._access(claims, conversation_id)
        return self._act(access, conversation_id, lambda _: Snooze(actor=Actor.agent(access.user_id), until=until))

    def resolve(self, claims: Claims, conversation_id: str, request: ResolveRequest) -> LifecycleView:
        access = self._access(claims, conversation_id)
        reason = (request.reason or "").strip() or "resolved_by_agent"
        view = self._act(access, conversation_id, lambda _: Resolve(actor=Actor.agent(access.user_id), reason=reason))
        if self._queue is not None:  # the CSAT question, when the tenant asks it, goes out from the function
            job = LifecycleJob(kind="resolved", tenant_id=access.tenant_id, conversation_id=conversation_id,
                               cycle=view.cycle)  # fmt: skip
            try:
                self._queue.publish([job])
            except Exception:  # the resolution stands; only the CSAT question is lost
                logger.warning("lifecycle queue refused the resolved job")
        return view

    def events(self, claims: Claims, conversation_id: str) -> EventList:
        found = self._store.events(claims, _conversation_id(conversation_id))
        if found is None:
            raise NotFoundError("no such conversation", code="conversation_not_found")
        return EventList(items=found)

    # --- the reply clocks ----------------------------------------------------------------------

    def record_reply(
        self, tenant_id: str, conversation_id: str, message_id: str, agent_id: str | None, at: datetime
    ) -> list[EventView]:
        """A human, public, non-automatic reply (an agent through Ponte, or someone on the phone):
        stops the clocks; an agent answering a conversation nobody holds takes it."""
        with self._store.unit(tenant_id, conversation_id) as unit:
            if unit is None:
                return []
            schedule = unit.schedule()
            events = unit.record_reply(message_id, agent_id, at, schedule)
            life = unit.conversation.lifecycle
            takes = agent_id and life.assignee_id is None and life.state in (State.BOT, State.WAITING)
            if takes and agent_id and unit.member_role(agent_id) is not None:
                command = Assign(actor=Actor.agent(agent_id), agent_id=agent_id, reason="replied")
                transition = decide(life, command, at)
                events.append(apply_measured(unit, transition, at, schedule))
            return events

    # --- helpers -------------------------------------------------------------------------------

    def _access(self, claims: Claims, conversation_id: str) -> Access:
        access = self._store.access(claims, _conversation_id(conversation_id))
        if access is None:
            raise NotFoundError("no such conversation", code="conversation_not_found")
        return access

    def _act(self, access: Access, conversation_id: str, make: Callable[[LifecycleUnit], Command]) -> LifecycleView:
        now = self._clock.now()
        with self._store.unit(access.tenant_id, _conversation_id(conversation_id)) as unit:
            if unit is None:
                raise NotFoundError("no such conversation", code="conversation_not_found")
            command = make(unit)
            try:
                transition = decide(unit.conversation.lifecycle, command, now)
            except TransitionRefusedError as exc:
                raise refused(exc) from exc
            event = apply_measured(unit, transition, now, unit.schedule())
            view = lifecycle_view(unit.conversation, event)
        if view.state is State.WAITING and view.team_id is not None:
            self.assign_queue(access.tenant_id, view.team_id)
        return view

    def assign_queue(self, tenant_id: str, team_id: str | None) -> list[tuple[str, str]]:
        """Automatic assignment of a team's queue (after a conversation joined it, an agent came online)."""
        return self._store.assign_waiting(tenant_id, team_id, self._clock.now(), self._store.settings(tenant_id))

    @staticmethod
    def _check_agent(unit: LifecycleUnit, agent_id: str) -> None:
        if unit.member_role(agent_id) is None:
            raise UnprocessableError("that user is not a member of this tenant", code="unknown_agent")

    @staticmethod
    def _check_team(unit: LifecycleUnit, team_id: str) -> None:
        if not unit.team_exists(team_id):
            raise UnprocessableError("no such team in this tenant", code="unknown_team")


def _conversation_id(value: str) -> str:
    found = id_param(value, "conversation_id")
    if found is None:
        raise BadRequestError("conversation_id is not an id", code="invalid_conversation_id")
    return found
