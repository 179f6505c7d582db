"""The conversation lifecycle: a state machine over one conversation's current cycle.

    bot ──route──▶ waiting ──assign──▶ in_service ──resolve──▶ resolved ──reopen──▶ bot (next cycle)
     │                ▲  │                │   ▲                   ▲
     │                │  └───snooze──▶ snoozed ──wake──────────────┘ (back to in_service or waiting)
     └─assign / transfer / resolve (automation resolves it, an agent takes it)

Every command is checked here, without I/O: a transition that makes no sense is refused with a
machine code (``TransitionRefusedError.code``), and an accepted one says what the conversation
becomes and what to record (one ``conversation_events`` row per transition).
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field

from ponte.domain.exceptions import DomainError


class State(StrEnum):
    BOT = "bot"  # automation (greeting, routing) has it
    WAITING = "waiting"  # in a team's queue, no agent yet
    IN_SERVICE = "in_service"  # an agent has it
    SNOOZED = "snoozed"  # parked until a time or the customer's next message
    RESOLVED = "resolved"


class Action(StrEnum):
    OPEN = "open"  # a cycle starts (recorded, never commanded)
    ROUTE = "route"  # automation puts it in a team's queue
    ASSIGN = "assign"  # an agent takes it (or automatic assignment gives it)
    TRANSFER = "transfer"  # to another agent or another team's queue
    SNOOZE = "snooze"
    WAKE = "wake"  # the snooze ended (its time, or the customer wrote)
    RESOLVE = "resolve"
    REOPEN = "reopen"  # the customer wrote after the resolution: a new cycle


class ActorType(StrEnum):
    SYSTEM = "system"
    AGENT = "agent"
    RULE = "rule"
    CUSTOMER = "customer"


class TransitionRefusedError(DomainError):
    """A command that makes no sense in the conversation's state; ``code`` is the machine code."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


class Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Actor(Frozen):
    type: ActorType
    id: str | None = None  # the agent's user id (agents), the rule's id (rules)

    @classmethod
    def system(cls) -> Actor:
        return cls(type=ActorType.SYSTEM)

    @classmethod
    def agent(cls, user_id: str) -> Actor:
        return cls(type=ActorType.AGENT, id=user_id)


class Lifecycle(Frozen):
    """What the state machine needs of a conversation."""

    state: State
    cycle: int = 1
    team_id: str | None = None
    assignee_id: str | None = None
    snoozed_until: datetime | None = None


class Command(Frozen):
    actor: Actor
    reason: str | None = Field(default=None, max_length=500)


class Route(Command):
    """Automation queues the conversation: to a team (None: the tenant's general queue)."""

    team_id: str | None = None


class Assign(Command):
    """An agent takes the conversation (``manual``) or automatic assignment gives it to one.

    A manual take of a conversation another agent holds is refused (``already_assigned``): of two
    agents taking it at once, exactly one wins."""

    agent_id: str
    team_id: str | None = None  # automatic assignment: the team whose queue it came from


class Transfer(Command):
    """To an agent (``in_service``) or to a team's queue (``waiting``, nobody assigned)."""

    agent_id: str | None = None
    team_id: str | None = None


class Snooze(Command):
    until: datetime | None = None  # None: until the customer's next message


class Wake(Command):
    pass


class Resolve(Command):
    pass


class Reopen(Command):
    pass


class Transition(Frozen):
    """An accepted command: the conversation's lifecycle after it, and what to record."""

    action: Action
    from_state: State
    to_state: State
    actor: Actor
    reason: str | None
    before: Lifecycle
    after: Lifecycle

    @property
    def new_cycle(self) -> bool:
        return self.after.cycle != self.before.cycle


def _refuse(code: str, message: str) -> TransitionRefusedError:
    return TransitionRefusedError(code, message)


def _after(current: Lifecycle, **changes: object) -> Lifecycle:
    return current.model_copy(update=changes)


def _woken_state(current: Lifecycle) -> State:
    return State.IN_SERVICE if current.assignee_id else State.WAITING


def decide(current: Lifecycle, command: Command, now: datetime) -> Transition:
    """The transition ``command`` makes from ``current``; raises :class:`TransitionRefusedError`."""
    state = current.state
    if isinstance(command, Reopen):
        if state is not State.RESOLVED:
            raise _refuse("not_resolved", "only a resolved conversation reopens")
        after = Lifecycle(state=State.BOT, cycle=current.cycle + 1)
        return _transition(Action.REOPEN, current, after, command)
    if state is State.RESOLVED:
        raise _refuse("conversation_resolved", "the conversation is resolved; a new customer message reopens it")
    if isinstance(command, Route):
        if state is not State.BOT:
            raise _refuse("already_routed", "only a conversation with the automation is routed")
        return _transition(
            Action.ROUTE, current, _after(current, state=State.WAITING, team_id=command.team_id), command
        )
    if isinstance(command, Assign):
        return _assign(current, command)
    if isinstance(command, Transfer):
        return _transfer(current, command)
    if isinstance(command, Snooze):
        if state not in (State.WAITING, State.IN_SERVICE):
            code = "already_snoozed" if state is State.SNOOZED else "cannot_snooze"
            raise _refuse(code, f"a conversation in {state.value} cannot be snoozed")
        if command.until is not None and command.until <= now:
            raise _refuse("snooze_in_past", "snooze until a time in the future")
        after = _after(current, state=State.SNOOZED, snoozed_until=command.until)
        return _transition(Action.SNOOZE, current, after, command)
    if isinstance(command, Wake):
        if state is not State.SNOOZED:
            raise _refuse("not_snoozed", "only a snoozed conversation wakes")
        after = _after(current, state=_woken_state(current), snoozed_until=None)
        return _transition(Action.WAKE, current, after, command)
    if isinstance(command, Resolve):
        after = _after(current, state=State.RESOLVED, snoozed_until=None)
        return _transition(Action.RESOLVE, current, after, command)
    raise _refuse("unknown_command", f"no such command: {type(command).__name__}")


def _assign(current: Lifecycle, command: Assign) -> Transition:
    holder = current.assignee_id
    if current.state in (State.IN_SERVICE, State.SNOOZED) and holder is not None:
        if holder == command.agent_id:
            raise _refuse("already_yours", "the conversation is already assigned to this agent")
        raise _refuse("already_assigned", "another agent has this conversation")
    team = command.team_id if command.team_id is not None else current.team_id
    after = _after(current, state=State.IN_SERVICE, assignee_id=command.agent_id, team_id=team, snoozed_until=None)
    return _transition(Action.ASSIGN, current, after, command)


def _transfer(current: Lifecycle, command: Transfer) -> Transition:
    if (command.agent_id is None) == (command.team_id is None):
        raise _refuse("invalid_transfer", "transfer to exactly one of an agent or a team")
    if command.agent_id is not None:
        if command.agent_id == current.assignee_id and current.state is not State.SNOOZED:
            raise _refuse("same_assignee", "the conversation is already with this agent")
        after = _after(current, state=State.IN_SERVICE, assignee_id=command.agent_id, snoozed_until=None)
        return _transition(Action.TRANSFER, current, after, command)
    if command.team_id == current.team_id and current.assignee_id is None and current.state is State.WAITING:
        raise _refuse("same_team", "the conversation is already in this team's queue")
    after = _after(current, state=State.WAITING, team_id=command.team_id, assignee_id=None, snoozed_until=None)
    return _transition(Action.TRANSFER, current, after, command)


def _transition(action: Action, before: Lifecycle, after: Lifecycle, command: Command) -> Transition:
    return Transition(
        action=action,
        from_state=before.state,
        to_state=after.state,
        actor=command.actor,
        reason=command.reason,
        before=before,
        after=after,
    )


def on_customer_message(current: Lifecycle, actor: Actor, now: datetime) -> Transition | None:
    """What a new customer message does: reopens a resolved conversation, wakes a snoozed one
    (whatever its snooze time), and leaves the others as they are."""
    if current.state is State.RESOLVED:
        return decide(current, Reopen(actor=actor, reason="customer_message"), now)
    if current.state is State.SNOOZED:
        return decide(current, Wake(actor=actor, reason="customer_message"), now)
    return None
