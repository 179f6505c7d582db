"""Routing rules as data: which team's queue a conversation goes to, from its first analysis.

A tenant keeps an ordered list of rules (``public.routing_rules``); the first enabled rule whose
conditions all hold wins. Conditions name the analysis' labels: ``intents`` (exact, or a prefix
ending in ``*`` such as ``billing_*``), ``urgencies``, ``sentiments``, ``priorities`` (the
triage's), and ``instance_ids``. No rule matching: the tenant's default team (or none)."""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field, field_validator

from ponte.domain.analysis import Intent, Sentiment, Urgency
from ponte.domain.scoring import Priority

MAX_RULES = 100
_INTENTS = {i.value for i in Intent}


class RuleAction(StrEnum):
    TEAM = "team"  # into the team's queue
    BOT_RESOLVE = "bot_resolve"  # automation closes it (thanks, greetings): nobody needs to answer


class RuleConditions(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    intents: tuple[str, ...] = Field(default=(), max_length=20)
    urgencies: tuple[Urgency, ...] = Field(default=(), max_length=3)
    sentiments: tuple[Sentiment, ...] = Field(default=(), max_length=3)
    priorities: tuple[Priority, ...] = Field(default=(), max_length=4)
    instance_ids: tuple[str, ...] = Field(default=(), max_length=50)

    @field_validator("intents")
    @classmethod
    def _known_intents(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for pattern in value:
            if pattern.endswith("*"):
                prefix = pattern[:-1]
                if not prefix or not any(intent.startswith(prefix) for intent in _INTENTS):
                    raise ValueError(f"no intent starts with {prefix!r}")
            elif pattern not in _INTENTS:
                raise ValueError(f"unknown intent {pattern!r}")
        return value


class RoutingRule(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str | None = None
    name: str = Field(min_length=1, max_length=80)
    conditions: RuleConditions = RuleConditions()
    action: RuleAction = RuleAction.TEAM
    team_id: str | None = None
    enabled: bool = True


class RoutingFacts(BaseModel):
    """What a conversation's routing looks at: its first analysis (None: not analysable) and instance."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    instance_id: str
    intent: Intent | None = None
    urgency: Urgency | None = None
    sentiment: Sentiment | None = None
    priority: Priority | None = None


class RoutingDecision(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    action: RuleAction
    team_id: str | None
    rule_id: str | None  # None: no rule matched, the default applies
    reason: str


def _intent_matches(patterns: tuple[str, ...], intent: Intent | None) -> bool:
    if not patterns:
        return True
    if intent is None:
        return False
    return any(intent.value.startswith(p[:-1]) if p.endswith("*") else intent.value == p for p in patterns)


def _in(allowed: tuple[object, ...], value: object | None) -> bool:
    return not allowed or (value is not None and value in allowed)


def matches(conditions: RuleConditions, facts: RoutingFacts) -> bool:
    return (
        _intent_matches(conditions.intents, facts.intent)
        and _in(conditions.urgencies, facts.urgency)
        and _in(conditions.sentiments, facts.sentiment)
        and _in(conditions.priorities, facts.priority)
        and _in(conditions.instance_ids, facts.instance_id)
    )


def route(rules: tuple[RoutingRule, ...], facts: RoutingFacts, default_team_id: str | None) -> RoutingDecision:
    """The first enabled rule that matches, else the default team."""
    for rule in rules:
        if rule.enabled and matches(rule.conditions, facts):
            return RoutingDecision(
                action=rule.action, team_id=rule.team_id, rule_id=rule.id, reason=f"rule:{rule.name}"
            )
    return RoutingDecision(action=RuleAction.TEAM, team_id=default_team_id, rule_id=None, reason="default")
