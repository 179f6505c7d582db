"""The conversation lifecycle's state machine: every command from every state, allowed or refused
with its machine code (ponte/domain/lifecycle.py)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from ponte.domain.lifecycle import (
    Action,
    Actor,
    ActorType,
    Assign,
    Command,
    Lifecycle,
    Reopen,
    Resolve,
    Route,
    Snooze,
    State,
    Transfer,
    TransitionRefusedError,
    Wake,
    decide,
    on_customer_message,
)

NOW = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)
ANA, BIA = "agent-ana", "agent-bia"
N1, N2 = "team-n1", "team-n2"
SYSTEM, AGENT = Actor.system(), Actor.agent(ANA)


def at(state: State, *, assignee: str | None = None, team: str | None = None) -> Lifecycle:
    until = NOW + timedelta(hours=1) if state is State.SNOOZED else None
    return Lifecycle(state=state, cycle=3, team_id=team, assignee_id=assignee, snoozed_until=until)


# Each state as the store holds it: in_service and snoozed with Ana, waiting in N1's queue.
STATES = {
    State.BOT: at(State.BOT),
    State.WAITING: at(State.WAITING, team=N1),
    State.IN_SERVICE: at(State.IN_SERVICE, assignee=ANA, team=N1),
    State.SNOOZED: at(State.SNOOZED, assignee=ANA, team=N1),
    State.RESOLVED: at(State.RESOLVED, assignee=ANA, team=N1),
}
COMMANDS: dict[str, Command] = {
    "route": Route(actor=SYSTEM, team_id=N1),
    "take": Assign(actor=AGENT, agent_id=ANA),
    "assign_bia": Assign(actor=SYSTEM, agent_id=BIA),
    "transfer_to_bia": Transfer(actor=AGENT, agent_id=BIA),
    "transfer_to_n2": Transfer(actor=AGENT, team_id=N2),
    "snooze": Snooze(actor=AGENT, until=NOW + timedelta(hours=2)),
    "wake": Wake(actor=SYSTEM),
    "resolve": Resolve(actor=AGENT),
    "reopen": Reopen(actor=Actor(type=ActorType.CUSTOMER)),
}
# (state, command) -> the state it leads to, or the machine code it is refused with
EXPECTED: dict[tuple[State, str], State | str] = {
    (State.BOT, "route"): State.WAITING,
    (State.BOT, "take"): State.IN_SERVICE,
    (State.BOT, "assign_bia"): State.IN_SERVICE,
    (State.BOT, "transfer_to_bia"): State.IN_SERVICE,
    (State.BOT, "transfer_to_n2"): State.WAITING,
    (State.BOT, "snooze"): "cannot_snooze",
    (State.BOT, "wake"): "not_snoozed",
    (State.BOT, "resolve"): State.RESOLVED,
    (State.BOT, "reopen"): "not_resolved",
    (State.WAITING, "route"): "already_routed",
    (State.WAITING, "take"): State.IN_SERVICE,
    (State.WAITING, "assign_bia"): State.IN_SERVICE,
    (State.WAITING, "transfer_to_bia"): State.IN_SERVICE,
    (State.WAITING, "transfer_to_n2"): State.WAITING,
    (State.WAITING, "snooze"): State.SNOOZED,
    (State.WAITING, "wake"): "not_snoozed",
    (State.WAITING, "resolve"): State.RESOLVED,
    (State.WAITING, "reopen"): "not_resolved",
    (State.IN_SERVICE, "route"): "already_routed",
    (State.IN_SERVICE, "take"): "already_yours",
    (State.IN_SERVICE, "assign_bia"): "already_assigned",
    (State.IN_SERVICE, "transfer_to_bia"): State.IN_SERVICE,
    (State.IN_SERVICE, "transfer_to_n2"): State.WAITING,
    (State.IN_SERVICE, "snooze"): State.SNOOZED,
    (State.IN_SERVICE, "wake"): "not_snoozed",
    (State.IN_SERVICE, "resolve"): State.RESOLVED,
    (State.IN_SERVICE, "reopen"): "not_resolved",
    (State.SNOOZED, "route"): "already_routed",
    (State.SNOOZED, "take"): "already_yours",
    (State.SNOOZED, "assign_bia"): "already_assigned",
    (State.SNOOZED, "transfer_to_bia"): State.IN_SERVICE,
    (State.SNOOZED, "transfer_to_n2"): State.WAITING,
    (State.SNOOZED, "snooze"): "already_snoozed",
    (State.SNOOZED, "wake"): State.IN_SERVICE,
    (State.SNOOZED, "resolve"): State.RESOLVED,
    (State.SNOOZED, "reopen"): "not_resolved",
    **{(State.RESOLVED, name): "conversation_resolved" for name in COMMANDS if name != "reopen"},
    (State.RESOLVED, "reopen"): State.BOT,
}


def test_the_table_covers_every_state_and_command() -> None:
    assert set(EXPECTED) == {(state, name) for state in State for name in COMMANDS}


@pytest.mark.parametrize(("state", "name"), sorted(EXPECTED))
def test_every_command_from_every_state(state: State, name: str) -> None:
    expected = EXPECTED[(state, name)]
    current, command = STATES[state], COMMANDS[name]
    if not isinstance(expected, State):  # a machine code (State is a str enum too: test it first)
        with pytest.raises(TransitionRefusedError) as refused:
            decide(current, command, NOW)
        assert refused.value.code == expected
        return
    transition = decide(current, command, NOW)
    assert (transition.from_state, transition.to_state) == (state, expected)
    assert transition.after.state is expected and transition.actor == command.actor
    assert transition.before == current


def test_a_reopen_starts_a_new_cycle_with_nobody_and_no_team() -> None:
    transition = decide(STATES[State.RESOLVED], Reopen(actor=SYSTEM), NOW)
    assert transition.action is Action.REOPEN and transition.new_cycle
    assert transition.after == Lifecycle(state=State.BOT, cycle=4)


def test_other_transitions_keep_the_cycle() -> None:
    for (state, name), expected in EXPECTED.items():
        if isinstance(expected, State) and name != "reopen":
            assert not decide(STATES[state], COMMANDS[name], NOW).new_cycle


def test_assignment_and_transfer_move_the_assignee_and_team() -> None:
    taken = decide(STATES[State.WAITING], COMMANDS["take"], NOW).after
    assert (taken.assignee_id, taken.team_id) == (ANA, N1)
    to_bia = decide(STATES[State.IN_SERVICE], COMMANDS["transfer_to_bia"], NOW).after
    assert (to_bia.assignee_id, to_bia.team_id) == (BIA, N1)
    to_n2 = decide(STATES[State.IN_SERVICE], COMMANDS["transfer_to_n2"], NOW).after
    assert (to_n2.assignee_id, to_n2.team_id, to_n2.state) == (None, N2, State.WAITING)
    auto = decide(STATES[State.WAITING], Assign(actor=SYSTEM, agent_id=BIA, team_id=N2), NOW).after
    assert auto.team_id == N2


def test_a_snooze_keeps_who_has_it_and_waking_returns_there() -> None:
    snoozed = decide(STATES[State.IN_SERVICE], COMMANDS["snooze"], NOW).after
    assert snoozed.assignee_id == ANA and snoozed.snoozed_until == NOW + timedelta(hours=2)
    woken = decide(snoozed, Wake(actor=SYSTEM), NOW).after
    assert (woken.state, woken.assignee_id, woken.snoozed_until) == (State.IN_SERVICE, ANA, None)
    queued = decide(decide(STATES[State.WAITING], COMMANDS["snooze"], NOW).after, Wake(actor=SYSTEM), NOW).after
    assert queued.state is State.WAITING
    until_next_message = decide(STATES[State.WAITING], Snooze(actor=AGENT), NOW).after
    assert until_next_message.state is State.SNOOZED and until_next_message.snoozed_until is None


def test_nonsense_is_refused_with_a_code() -> None:
    cases: list[tuple[Lifecycle, Command, str]] = [
        (STATES[State.WAITING], Snooze(actor=AGENT, until=NOW - timedelta(seconds=1)), "snooze_in_past"),
        (STATES[State.IN_SERVICE], Transfer(actor=AGENT), "invalid_transfer"),
        (STATES[State.IN_SERVICE], Transfer(actor=AGENT, agent_id=BIA, team_id=N2), "invalid_transfer"),
        (STATES[State.IN_SERVICE], Transfer(actor=AGENT, agent_id=ANA), "same_assignee"),
        (STATES[State.WAITING], Transfer(actor=AGENT, team_id=N1), "same_team"),
        (STATES[State.WAITING], Command(actor=AGENT), "unknown_command"),
    ]
    for current, command, code in cases:
        with pytest.raises(TransitionRefusedError) as refused:
            decide(current, command, NOW)
        assert refused.value.code == code, (current.state, command)


def test_a_customer_message_reopens_or_wakes_and_otherwise_changes_nothing() -> None:
    customer = Actor(type=ActorType.CUSTOMER)
    reopened = on_customer_message(STATES[State.RESOLVED], customer, NOW)
    assert reopened is not None and reopened.action is Action.REOPEN and reopened.reason == "customer_message"
    woken = on_customer_message(STATES[State.SNOOZED], customer, NOW)
    assert woken is not None and woken.action is Action.WAKE and woken.to_state is State.IN_SERVICE
    for state in (State.BOT, State.WAITING, State.IN_SERVICE):
        assert on_customer_message(STATES[state], customer, NOW) is None
