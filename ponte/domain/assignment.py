"""Automatic assignment: which online agent of a team gets the next conversation of its queue.

The pool is the team's members who are online (a fresh heartbeat), under their capacity (open
conversations they hold), under the fair-distribution cap (automatic assignments in the window),
and not the agent the conversation was just transferred away from (no ping-pong). Round robin
gives it to the member longest without one; least loaded to the one holding fewest (ties: longest
without one). The store claims the queue's rows with ``FOR UPDATE SKIP LOCKED`` and holds the
team's row while it decides, so two assigners never hand out the same capacity twice."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel, ConfigDict


class AssignmentOrder(StrEnum):
    ROUND_ROBIN = "round_robin"
    LEAST_LOADED = "least_loaded"


class AgentLoad(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    user_id: str
    online: bool
    open_conversations: int  # in service or snoozed, held by this agent (all teams)
    assigned_in_window: int  # automatic assignments within the team's fair window
    last_assigned_at: datetime | None = None


class TeamPolicy(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    order: AssignmentOrder = AssignmentOrder.ROUND_ROBIN
    agent_capacity: int | None = None
    fair_limit: int = 30


def eligible(agent: AgentLoad, policy: TeamPolicy, excluded: frozenset[str] = frozenset()) -> bool:
    return (
        agent.online
        and agent.user_id not in excluded
        and (policy.agent_capacity is None or agent.open_conversations < policy.agent_capacity)
        and agent.assigned_in_window < policy.fair_limit
    )


def _never_first(agent: AgentLoad) -> tuple[int, float, str]:
    """Round-robin key: never assigned first, then the longest ago; the id breaks ties stably."""
    if agent.last_assigned_at is None:
        return (0, 0.0, agent.user_id)
    return (1, agent.last_assigned_at.timestamp(), agent.user_id)


def pick_agent(agents: list[AgentLoad], policy: TeamPolicy, excluded: frozenset[str] = frozenset()) -> str | None:
    """The agent to give the next conversation to, or None when nobody is eligible."""
    pool = [a for a in agents if eligible(a, policy, excluded)]
    if not pool:
        return None
    if policy.order is AssignmentOrder.LEAST_LOADED:
        return min(pool, key=lambda a: (a.open_conversations, _never_first(a))).user_id
    return min(pool, key=_never_first).user_id


def after_assignment(agents: list[AgentLoad], user_id: str, at: datetime) -> list[AgentLoad]:
    """The pool's loads once ``user_id`` got one more conversation (several are assigned in one pass)."""
    return [
        a.model_copy(
            update={
                "open_conversations": a.open_conversations + 1,
                "assigned_in_window": a.assigned_in_window + 1,
                "last_assigned_at": at,
            }
        )
        if a.user_id == user_id
        else a
        for a in agents
    ]
