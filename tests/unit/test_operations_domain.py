"""Routing rules, automatic assignment, CSAT answers and automatic-message templates: pure domain."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from pydantic import ValidationError

from ponte.domain.analysis import Intent, Sentiment, Urgency
from ponte.domain.assignment import AgentLoad, AssignmentOrder, TeamPolicy, after_assignment, pick_agent
from ponte.domain.csat import parse_rating
from ponte.domain.operations import AutomaticMessage, OperationsSettings, render
from ponte.domain.routing import RoutingFacts, RoutingRule, RuleAction, RuleConditions, route
from ponte.domain.scoring import Priority

NOW = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)
FIN, N2, N3, N1 = "team-financeiro", "team-n2", "team-n3", "team-n1"
RULES = (
    RoutingRule(id="r0", name="crítico", conditions=RuleConditions(priorities=(Priority.CRITICAL,)), team_id=N3),
    RoutingRule(id="r1", name="cobrança", conditions=RuleConditions(intents=("billing_*",)), team_id=FIN),
    RoutingRule(
        id="r2",
        name="suporte urgente",
        conditions=RuleConditions(intents=("support_request",), urgencies=(Urgency.HIGH,)),
        team_id=N2,
    ),
    RoutingRule(
        id="r3", name="só agradeceu", conditions=RuleConditions(intents=("other",)), action=RuleAction.BOT_RESOLVE
    ),
    RoutingRule(id="r4", name="desligada", conditions=RuleConditions(intents=("greeting",)), team_id=N2, enabled=False),
)


def facts(intent: Intent | None, urgency: Urgency = Urgency.LOW, priority: Priority = Priority.LOW) -> RoutingFacts:
    return RoutingFacts(
        instance_id="i1", intent=intent, urgency=urgency, sentiment=Sentiment.NEUTRAL, priority=priority
    )


@pytest.mark.parametrize(
    ("found", "team", "action", "rule"),
    [
        (facts(Intent.BILLING_DISPUTE), FIN, RuleAction.TEAM, "r1"),
        (facts(Intent.BILLING_PAYMENT), FIN, RuleAction.TEAM, "r1"),
        (facts(Intent.BILLING_DISPUTE, priority=Priority.CRITICAL), N3, RuleAction.TEAM, "r0"),  # first match wins
        (facts(Intent.SUPPORT_REQUEST, urgency=Urgency.HIGH), N2, RuleAction.TEAM, "r2"),
        (facts(Intent.SUPPORT_REQUEST, urgency=Urgency.MEDIUM), N1, RuleAction.TEAM, None),  # the default
        (facts(Intent.OTHER), None, RuleAction.BOT_RESOLVE, "r3"),
        (facts(Intent.GREETING), N1, RuleAction.TEAM, None),  # a disabled rule never matches
        (facts(None), N1, RuleAction.TEAM, None),  # no analysis (an image): conditions on labels fail
    ],
)
def test_routing_rules_first_match_else_default(found: RoutingFacts, team: str, action: RuleAction, rule: str) -> None:
    decision = route(RULES, found, default_team_id=N1)
    assert (decision.team_id, decision.action, decision.rule_id) == (team, action, rule)


def test_rule_conditions_refuse_unknown_intents_and_prefixes() -> None:
    for bad in (("billing",), ("nonsense_*",), ("*",)):
        with pytest.raises(ValidationError):
            RuleConditions(intents=bad)
    assert RuleConditions(intents=("billing_*", "complaint")).intents == ("billing_*", "complaint")
    with pytest.raises(ValidationError):
        RuleConditions.model_validate({"intents": ["complaint"], "colour": "red"})


def load(user: str, *, online: bool = True, open_: int = 0, window: int = 0, last: int | None = None) -> AgentLoad:
    when = NOW - timedelta(minutes=last) if last is not None else None
    return AgentLoad(user_id=user, online=online, open_conversations=open_, assigned_in_window=window,
                     last_assigned_at=when)  # fmt: skip


def test_round_robin_picks_the_longest_without_and_never_first() -> None:
    team = [load("ana", last=5), load("bia", last=30), load("caio", last=1)]
    assert pick_agent(team, TeamPolicy()) == "bia"
    assert pick_agent([*team, load("duda")], TeamPolicy()) == "duda"  # never assigned yet goes first


def test_least_loaded_picks_the_fewest_open_conversations() -> None:
    team = [load("ana", open_=3, last=50), load("bia", open_=1, last=1), load("caio", open_=1, last=20)]
    assert pick_agent(team, TeamPolicy(order=AssignmentOrder.LEAST_LOADED)) == "caio"


def test_offline_full_capped_and_excluded_agents_get_nothing() -> None:
    policy = TeamPolicy(agent_capacity=2, fair_limit=5)
    assert pick_agent([load("ana", online=False)], policy) is None
    assert pick_agent([load("ana", open_=2)], policy) is None  # at capacity
    assert pick_agent([load("ana", window=5)], policy) is None  # fair cap in the window
    assert pick_agent([load("ana")], policy, excluded=frozenset({"ana"})) is None  # just transferred away
    assert pick_agent([load("ana", open_=2), load("bia", open_=1)], policy) == "bia"


def test_a_pass_spreads_conversations_and_respects_capacity() -> None:
    agents = [load("ana"), load("bia")]
    policy = TeamPolicy(agent_capacity=2)
    given = []
    for minute in range(5):
        agent = pick_agent(agents, policy)
        if agent is None:
            break
        given.append(agent)
        agents = after_assignment(agents, agent, NOW + timedelta(minutes=minute))
    assert given == ["ana", "bia", "ana", "bia"]  # alternating, then both full


@pytest.mark.parametrize(
    ("answer", "score"),
    [
        ("5", 5), ("nota 4", 4), ("4/5", 4), (" 3 ", 3), ("Nota 1.", 1), ("ótimo!", 5), ("Excelente", 5),
        ("muito bom", 5), ("bom", 4), ("regular", 3), ("ruim", 2), ("péssimo", 1), ("PESSIMO", 1), ("cinco", 5),
        ("⭐⭐⭐⭐", 4), ("😡", 1), ("😍", 5), ("👍", 4), ("nota 5 pelo atendimento, obrigado", 5),
    ],
)  # fmt: skip
def test_csat_answers_in_portuguese(answer: str, score: int) -> None:
    assert parse_rating(answer) == score


@pytest.mark.parametrize(
    "answer",
    [None, "", "10", "0", "6", "3 ou 4", "ok obrigado", "Quero outro boleto pra 5 dias", "5?", "4.5", "x" * 200],
)
def test_what_is_not_a_rating(answer: str | None) -> None:
    assert parse_rating(answer) is None


def test_templates_fill_their_variables_and_refuse_unknown_ones() -> None:
    greeting = OperationsSettings().automatic_messages.greeting
    assert not greeting.enabled  # automatic messages are off until the tenant turns them on
    text = render(greeting.template, {"nome": "Maria", "protocolo": "20261207000042"})
    assert text.startswith("Olá, Maria! ") and "20261207000042" in text
    assert render(greeting.template, {"protocolo": "1"}).startswith("Olá! ")  # no name: no dangling comma
    with pytest.raises(ValidationError):
        AutomaticMessage(enabled=True, template="Olá {cliente}")
    with pytest.raises(ValidationError):
        OperationsSettings.model_validate({"presence_ttl_seconds": 1})
