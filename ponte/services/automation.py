"""The automation around the lifecycle (the ``ponte-lifecycle`` function and its timers): what a
customer's message does (open, reopen, wake, a CSAT answer), routing by analysis and rules,
automatic assignment, the automatic messages (greeting, queue position, CSAT question and thanks,
each off until the tenant turns it on), snooze expiry, presence expiry and the assignment sweep.

Automatic messages go out through the same outbox as agents' sends, once per idempotency key
(``auto:<kind>:<conversation>:<cycle>``): a redelivered job never sends twice."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from ponte.domain.business_hours import Schedule, is_open, next_open
from ponte.domain.csat import parse_rating
from ponte.domain.lifecycle import Actor, ActorType, Resolve, Route, State, TransitionRefusedError, Wake, decide
from ponte.domain.lifecycle import on_customer_message as lifecycle_on_message
from ponte.domain.lifecycle_job import LifecycleJob
from ponte.domain.operations import AutomaticKind, OperationsSettings, render
from ponte.domain.routing import RoutingFacts, RuleAction, route
from ponte.ports.alerts import AlertStore
from ponte.ports.clock import Clock
from ponte.ports.lifecycle import AutomaticSender, ConversationState, LifecycleStore
from ponte.services.lifecycle import LifecycleService, apply_measured

logger = logging.getLogger(__name__)


@dataclass
class _Outgoing:
    """Automatic messages decided inside a transaction, sent once it committed (with the key's
    window: the cycle, or for the away message the time it opens again)."""

    items: list[tuple[AutomaticKind, ConversationState, dict[str, str]]] = field(default_factory=list)
    windows: dict[AutomaticKind, str] = field(default_factory=dict)


def wait_text(seconds: float | None) -> str:
    if seconds is None:
        return "alguns minutos"
    minutes = max(1, round(seconds / 60))
    if minutes < 60:
        return f"{minutes} minuto" + ("s" if minutes > 1 else "")
    hours = round(minutes / 60)
    return f"{hours} hora" + ("s" if hours > 1 else "")


def variables(conversation: ConversationState, **more: str) -> dict[str, str]:
    return {"nome": (conversation.contact_name or "").strip(), "protocolo": conversation.protocol or "", **more}


class AutomationService:
    def __init__(
        self,
        store: LifecycleStore,
        lifecycle: LifecycleService,
        *,
        sender: AutomaticSender | None = None,
        clock: Clock | None = None,
        alerts: AlertStore | None = None,
    ) -> None:
        self._alerts = alerts
        self._store = store
        self._lifecycle = lifecycle
        self._sender = sender
        self._clock = clock or Clock()

    def handle(self, job: LifecycleJob) -> str:
        if job.kind == "messages":
            return self._messages(job)
        if job.kind == "analyzed":
            return self.route(job.tenant_id, job.conversation_id, job.message_id, reason=None)
        return self._resolved(job)

    # --- customer and phone messages -------------------------------------------------------------

    def _messages(self, job: LifecycleJob) -> str:
        inbound = [s.message_id for s in job.messages if s.inbound]
        outbound = [s.message_id for s in job.messages if not s.inbound]
        outcome = self._inbound(job.tenant_id, job.conversation_id, inbound) if inbound else "no_inbound"
        for origin in self._store.outbound_origins(job.tenant_id, outbound) if outbound else []:
            if origin.origin in (None, "agent"):  # automatic and campaign messages never stop the clocks
                self._lifecycle.record_reply(
                    job.tenant_id, job.conversation_id, origin.message_id, origin.author_id, origin.occurred_at
                )
        return outcome

    def _inbound(self, tenant_id: str, conversation_id: str, message_ids: list[str]) -> str:
        messages = self._store.inbound_messages(tenant_id, message_ids)
        settings = self._store.settings(tenant_id)
        outgoing = _Outgoing()
        customer = Actor(type=ActorType.CUSTOMER)
        route_now = False
        outcome = "no_change"
        with self._store.unit(tenant_id, conversation_id) as unit:
            if unit is None:
                return "conversation_gone"
            for message in messages:
                if message.kind == "reaction":  # a reaction neither reopens nor makes anyone wait
                    continue
                c = unit.conversation
                if c.lifecycle.state is State.RESOLVED and message.occurred_at <= c.state_changed_at:
                    continue  # written before the resolution (a late delivery): it reopens nothing
                if self._csat_answer(unit.conversation, message.body, message.occurred_at, settings):
                    score = parse_rating(message.body)
                    assert score is not None
                    if unit.record_csat(score, message.id, message.occurred_at):
                        outgoing.items.append((AutomaticKind.CSAT_THANKS, unit.conversation, {}))
                        outcome = "csat_answered"
                    continue
                transition = lifecycle_on_message(c.lifecycle, customer, message.occurred_at)
                opened = False
                if transition is not None:
                    unit.apply(transition, message.occurred_at)
                    outcome = transition.action.value
                    opened = transition.new_cycle
                elif unit.conversation.protocol is None:
                    unit.record_open(message.occurred_at)
                    outcome = "opened"
                    opened = True
                unit.customer_waits(message.occurred_at)
                self._greet_or_away(unit.conversation, unit.schedule(), message.occurred_at, opened, outgoing)
                if unit.conversation.lifecycle.state is State.BOT and message.kind != "text":
                    route_now = True  # no analysis will come for it: route without one
        self._send_all(outgoing, settings)
        if route_now:
            self.route(tenant_id, conversation_id, None, reason="not_analysable")
        return outcome

    @staticmethod
    def _greet_or_away(
        conversation: ConversationState, schedule: Schedule | None, at: datetime, opened: bool, outgoing: _Outgoing
    ) -> None:
        """Inside business hours a new cycle is greeted; outside them the away message goes instead
        (with the protocol), at most once per conversation per closed period."""
        if is_open(schedule, at):
            if opened:
                outgoing.items.append((AutomaticKind.GREETING, conversation, {}))
            return
        assert schedule is not None
        reopens = next_open(schedule, at)
        if AutomaticKind.AWAY not in outgoing.windows:
            outgoing.items.append((AutomaticKind.AWAY, conversation, {}))
        outgoing.windows[AutomaticKind.AWAY] = reopens.isoformat() if reopens else "closed"

    def _csat_answer(
        self, conversation: ConversationState, body: str | None, at: datetime, settings: OperationsSettings
    ) -> bool:
        asked = conversation.csat_requested_at
        return (
            conversation.lifecycle.state is State.RESOLVED
            and asked is not None
            and not conversation.csat_answered
            and asked <= at <= asked + timedelta(hours=settings.csat_window_hours)
            and parse_rating(body) is not None
        )

    # --- routing -------------------------------------------------------------------------------

    def route(self, tenant_id: str, conversation_id: str, message_id: str | None, *, reason: str | None) -> str:
        """Queue a conversation the automation holds, by the tenant's rules (first analysis) or the default."""
        settings = self._store.settings(tenant_id)
        rules = self._store.routing_rules(tenant_id)
        facts = self._store.routing_facts(tenant_id, message_id) if message_id else None
        now = self._clock.now()
        with self._store.unit(tenant_id, conversation_id) as unit:
            if unit is None or unit.conversation.lifecycle.state is not State.BOT:
                return "not_with_automation"
            c = unit.conversation
            decision = route(rules, facts or RoutingFacts(instance_id=c.instance_id), settings.default_team_id)
            actor = Actor(type=ActorType.RULE) if decision.rule_id else Actor.system()
            why = decision.reason if reason is None else f"{reason};{decision.reason}"
            team = decision.team_id if decision.team_id and unit.team_exists(decision.team_id) else None
            if decision.action is RuleAction.BOT_RESOLVE:
                transition = decide(c.lifecycle, Resolve(actor=actor, reason=why), now)
            else:
                transition = decide(c.lifecycle, Route(actor=actor, team_id=team, reason=why), now)
            apply_measured(unit, transition, now, unit.schedule())
            routed = unit.conversation
        if routed.lifecycle.state is not State.WAITING or routed.lifecycle.team_id is None:
            return transition.to_state.value
        assigned = dict(self._lifecycle.assign_queue(tenant_id, routed.lifecycle.team_id))
        if conversation_id in assigned:
            return "assigned"
        self._queue_position(routed, settings)
        return "queued"

    def _queue_position(self, conversation: ConversationState, settings: OperationsSettings) -> None:
        if not settings.automatic_messages.queue_position.enabled:
            return
        life = conversation.lifecycle
        schedule = self._store.schedule(conversation.tenant_id, conversation.instance_id, life.team_id)
        if not is_open(schedule, self._clock.now()):
            return  # the away message said when we answer
        found = self._store.queue_position(conversation.tenant_id, conversation.id)
        if found is None:
            return
        position, wait = found
        more = {"posicao": str(position), "espera": wait_text(wait)}
        self._send_all(_Outgoing([(AutomaticKind.QUEUE_POSITION, conversation, more)]), settings)

    # --- after a resolution ----------------------------------------------------------------------

    def _resolved(self, job: LifecycleJob) -> str:
        settings = self._store.settings(job.tenant_id)
        if not settings.automatic_messages.csat_request.enabled:
            return "csat_off"
        with self._store.unit(job.tenant_id, job.conversation_id) as unit:
            if unit is None:
                return "conversation_gone"
            c = unit.conversation
            served = c.first_response_at is not None or c.lifecycle.assignee_id is not None
            if c.lifecycle.state is not State.RESOLVED or c.lifecycle.cycle != job.cycle or not served:
                return "not_asked"
            if c.csat_requested_at is not None:
                return "already_asked"
        # sent outside the row lock: the send stores its message on this conversation
        if not self._send(AutomaticKind.CSAT_REQUEST, c, variables(c), settings):
            return "not_sent"
        with self._store.unit(job.tenant_id, job.conversation_id) as unit:
            if unit is not None and unit.conversation.lifecycle.cycle == job.cycle:
                unit.mark_csat_requested(self._clock.now())
        return "csat_requested"

    # --- timers ----------------------------------------------------------------------------------

    def run_timers(self) -> dict[str, int]:
        """Every minute: snoozes that ended, conversations the automation could not route, SLAs that
        broke, expired heartbeats, the assignment sweep (agents who came online, capacity freed),
        and the admins' alerts."""
        now = self._clock.now()
        woken = 0
        for tenant_id, conversation_id in self._store.due_snoozes(now):
            with self._store.unit(tenant_id, conversation_id) as unit:
                if unit is None:
                    continue
                try:
                    transition = decide(
                        unit.conversation.lifecycle, Wake(actor=Actor.system(), reason="snooze_ended"), now
                    )
                except TransitionRefusedError:
                    continue
                unit.apply(transition, now)
                woken += 1
        routed = sum(
            self.route(t, c, None, reason="bot_timeout") != "not_with_automation"
            for t, c in self._store.stale_bots(now)
        )
        breached = 0
        for tenant_id, conversation_id in self._store.breached_slas(now):
            with self._store.unit(tenant_id, conversation_id) as unit:
                breached += unit is not None and unit.record_sla_breach(now) is not None
        offline = self._store.expire_presence(now)
        assigned = sum(len(self._lifecycle.assign_queue(t, team)) for t, team in self._store.teams_with_queue())
        raised = self._alerts.sweep(now) if self._alerts is not None else {}
        return {
            "woken": woken,
            "routed": routed,
            "sla_breached": breached,
            "offline": offline,
            "assigned": assigned,
            **{f"alerts_{kind}": count for kind, count in raised.items()},
        }

    # --- sending ---------------------------------------------------------------------------------

    def _send_all(self, outgoing: _Outgoing, settings: OperationsSettings) -> None:
        for kind, conversation, more in outgoing.items:
            self._send(kind, conversation, variables(conversation, **more), settings, outgoing.windows.get(kind))

    def _send(
        self,
        kind: AutomaticKind,
        conversation: ConversationState,
        values: dict[str, str],
        settings: OperationsSettings,
        window: str | None = None,
    ) -> bool:
        message = settings.automatic_messages.of(kind)
        if not message.enabled or self._sender is None:
            return False
        key = f"auto:{kind.value}:{conversation.id}:{window or conversation.lifecycle.cycle}"
        try:
            return self._sender.send(
                conversation.tenant_id, conversation.id, kind, render(message.template, values), key
            )
        except Exception:  # an automatic message never fails the lifecycle
            logger.warning("automatic message not sent", extra={"kind": kind.value})
            return False
