"""Session recovery of one WhatsApp instance, as a pure state machine.

Fed by observations (connection events from the webhooks, status checks, the result of
its own actions, an admin's request), it decides what to do next:

* connected: healthy, counters cleared;
* down without a code (NOT_LOGGED, DISCONNECTED): up to ``max_reconnects`` automatic
  reconnects, alternating to the alternate credentials when the instance has them;
* still down after that: a "reset total" (clear the gateway session, start a new one),
  then wait for a human to scan the new QR / type the pairing code;
* a QR or pairing code: publish it to the tenant's admins, rate-limited (gateways can
  loop and emit hundreds a minute) and deduplicated.

Events arriving while a recovery step is fresh are ignored (``cooldown_seconds``): the
gateway echoes every restart with more connection events.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field

from ponte.domain.gateway import SessionStatus


class Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class RecoveryPhase(StrEnum):
    HEALTHY = "healthy"
    RECONNECTING = "reconnecting"
    AWAITING_QR = "awaiting_qr"  # reset done (or the gateway asks for a scan): a human must act


class Trigger(StrEnum):
    EVENT = "event"  # a connection / QR webhook
    STATUS_CHECK = "status_check"  # a periodic or admin status read
    FOLLOW_UP = "follow_up"  # the result of this machine's own reconnect / reset
    ADMIN_RECONNECT = "admin_reconnect"
    ADMIN_RESET = "admin_reset"


class ActionKind(StrEnum):
    RECONNECT = "reconnect"
    RESET = "reset"
    PUBLISH_QR = "publish_qr"


class Action(Frozen):
    kind: ActionKind
    alternate: bool = False


class RecoveryPolicy(Frozen):
    max_reconnects: int = Field(default=3, ge=0)
    has_alternate: bool = False
    cooldown_seconds: float = Field(default=20.0, ge=0)
    qr_min_interval_seconds: float = Field(default=10.0, ge=0)


class RecoveryState(Frozen):
    phase: RecoveryPhase = RecoveryPhase.HEALTHY
    reconnects: int = 0
    resets: int = 0
    last_action_at: datetime | None = None
    last_qr_at: datetime | None = None
    last_qr_digest: str | None = None
    qr_published: int = 0
    qr_suppressed: int = 0


class Observation(Frozen):
    status: SessionStatus
    trigger: Trigger
    code_digest: str | None = None  # a digest of the QR / pairing code when one came with it


class Decision(Frozen):
    state: RecoveryState
    actions: tuple[Action, ...] = ()
    reason: str


def step(state: RecoveryState, obs: Observation, *, now: datetime, policy: RecoveryPolicy) -> Decision:
    """The next state and actions for one observation."""
    if obs.trigger is Trigger.ADMIN_RESET:
        return _reset(state, now, "admin_reset")
    if obs.code_digest is not None:
        return _qr(state, obs.code_digest, now, policy)
    if obs.status is SessionStatus.CONNECTED:
        if state.phase is RecoveryPhase.HEALTHY and state.reconnects == 0:
            return Decision(state=state, reason="connected")
        healthy = state.model_copy(update={"phase": RecoveryPhase.HEALTHY, "reconnects": 0})
        return Decision(state=healthy, reason="recovered")
    if obs.trigger is Trigger.ADMIN_RECONNECT:
        # an admin asks again: a fresh round of automatic reconnects
        fresh = state.model_copy(update={"phase": RecoveryPhase.HEALTHY, "reconnects": 0})
        return _down(fresh, now, policy)
    if not obs.status.is_down and obs.status is not SessionStatus.QR_PENDING:
        return Decision(state=state, reason=obs.status.value)  # connecting / unknown: wait for more
    if state.phase is RecoveryPhase.AWAITING_QR:
        return Decision(state=state, reason="awaiting_qr")
    if obs.trigger in {Trigger.EVENT, Trigger.STATUS_CHECK} and _fresh(state, now, policy):
        return Decision(state=state, reason="cooldown")
    return _down(state, now, policy)


def _fresh(state: RecoveryState, now: datetime, policy: RecoveryPolicy) -> bool:
    if state.phase is not RecoveryPhase.RECONNECTING or state.last_action_at is None:
        return False
    return (now - state.last_action_at).total_seconds() < policy.cooldown_seconds


def _down(state: RecoveryState, now: datetime, policy: RecoveryPolicy) -> Decision:
    if state.reconnects >= policy.max_reconnects:
        return _reset(state, now, "reconnects_exhausted")
    attempt = state.reconnects + 1
    # attempts 2, 4... use the alternate credentials when there are any
    alternate = policy.has_alternate and attempt % 2 == 0
    new = state.model_copy(update={"phase": RecoveryPhase.RECONNECTING, "reconnects": attempt, "last_action_at": now})
    return Decision(state=new, actions=(Action(kind=ActionKind.RECONNECT, alternate=alternate),), reason="reconnect")


def _reset(state: RecoveryState, now: datetime, reason: str) -> Decision:
    new = state.model_copy(
        update={
            "phase": RecoveryPhase.AWAITING_QR,
            "reconnects": 0,
            "resets": state.resets + 1,
            "last_action_at": now,
            "last_qr_digest": None,  # the new session's first code is always shown
            "last_qr_at": None,
        }
    )
    return Decision(state=new, actions=(Action(kind=ActionKind.RESET),), reason=reason)


def _qr(state: RecoveryState, digest: str, now: datetime, policy: RecoveryPolicy) -> Decision:
    base = state.model_copy(update={"phase": RecoveryPhase.AWAITING_QR})
    if digest == state.last_qr_digest:
        return Decision(state=base.model_copy(update={"qr_suppressed": state.qr_suppressed + 1}), reason="qr_repeat")
    if state.last_qr_at is not None and (now - state.last_qr_at).total_seconds() < policy.qr_min_interval_seconds:
        return Decision(
            state=base.model_copy(update={"qr_suppressed": state.qr_suppressed + 1}), reason="qr_rate_limited"
        )
    new = base.model_copy(update={"last_qr_at": now, "last_qr_digest": digest, "qr_published": state.qr_published + 1})
    return Decision(state=new, actions=(Action(kind=ActionKind.PUBLISH_QR),), reason="qr_published")
