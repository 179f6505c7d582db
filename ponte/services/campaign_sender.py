"""Campaign sends, queue-driven: a tick plans, one job per recipient sends.

- **tick** (a schedule, every minute in production): for each running campaign outside quiet
  hours, the next recipients get send slots from the instance's throttle plan (a horizon of two
  ticks) and their jobs go on the queue, each delayed to its slot; recipients whose job got lost
  (released or claimed long ago) get a new one; a campaign with nobody left completes; progress
  counts are refreshed (and broadcast).
- **send job**: the recipient is claimed in one transaction (a duplicate job finds it claimed or
  done; a cancelled, paused or quiet campaign takes it back); at send time the number is checked
  again against the opt-outs and the hidden list; the instance's gap since its last send is
  enforced under its pacing lock; the message goes through the one outbox with the recipient's
  idempotency key (``campaign:<campaign>:<recipient>``), so a crash or a redelivery finds the
  first attempt instead of sending twice. Outcomes feed the automatic pause rules.
"""

from __future__ import annotations

import logging
import math
import random
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from ponte.domain.campaign_job import CampaignJob
from ponte.domain.campaigns.auto_pause import (
    META_PAUSE_CODES,
    OPT_OUT_CODES,
    AutoPauseRules,
    PauseReason,
    pause_reason,
)
from ponte.domain.campaigns.lifecycle import CampaignStatus
from ponte.domain.campaigns.message import with_opt_out
from ponte.domain.campaigns.rewrite import RewriteRules, rewrite_violations
from ponte.domain.campaigns.settings import CampaignSettings
from ponte.domain.campaigns.throttle import (
    Channel,
    PacingState,
    Plan,
    ThrottlePolicy,
    channel_of,
    plan_slots,
)
from ponte.domain.outbound import (
    OutboundContent,
    OutboundKind,
    TemplateComponent,
    TemplateParameter,
    TemplateSpec,
)
from ponte.domain.outbox import OutboxStatus
from ponte.ports.campaigns import (
    ActiveCampaign,
    CampaignQueue,
    CampaignSendStore,
    ClaimDecision,
    OptOutStore,
    Released,
    ReplyStore,
    Rewriter,
    RewriteUnavailableError,
    SendSnapshot,
)
from ponte.ports.clock import Clock
from ponte.services.campaign_pacing import InstancePacer
from ponte.services.exceptions import ConflictError, ServiceError
from ponte.services.sending import SendService

logger = logging.getLogger(__name__)

MAX_DELAY_SECONDS = 900  # SQS
MAX_RELEASE_PER_TICK = 500
FINISHED_REFRESH = timedelta(days=1)  # delivered / read keep coming after the last send
FINAL = frozenset({"sent", "failed", "skipped", "cancelled"})


@dataclass(frozen=True)
class SenderTiming:
    """How the sender paces itself. ``time_scale`` shrinks every throttle duration (local tests
    and benchmarks only); ``tick_seconds`` is the schedule's period."""

    tick_seconds: float = 60.0
    time_scale: float = 1.0
    stale_seconds: float = 300.0  # a claim this old without an outcome is tried again (same key)
    max_inline_wait: float = 30.0  # a job waits this long in-process for its slot; longer: re-queued

    @property
    def horizon(self) -> timedelta:
        return timedelta(seconds=2 * self.tick_seconds)

    @property
    def inline_wait(self) -> float:
        return min(self.max_inline_wait, max(2.0, 2 * self.tick_seconds))


DEFAULT_TIMING = SenderTiming()
DEFAULT_RULES = AutoPauseRules()


def idempotency_key(campaign_id: str, recipient_id: str) -> str:
    return f"campaign:{campaign_id}:{recipient_id}"


class CampaignSender:
    def __init__(
        self,
        store: CampaignSendStore,
        sending: SendService,
        queue: CampaignQueue,
        *,
        pacer: InstancePacer,
        opt_outs: OptOutStore,
        replies: ReplyStore,
        hasher: Callable[[str], str],
        rewriter: Rewriter | None = None,
        clock: Clock | None = None,
        timing: SenderTiming = DEFAULT_TIMING,
        rules: AutoPauseRules = DEFAULT_RULES,
        rng: random.Random | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._store = store
        self._pacer = pacer
        self._sending = sending
        self._queue = queue
        self._opt_outs = opt_outs
        self._replies = replies
        self._hasher = hasher
        self._rewriter = rewriter
        self._clock = clock or Clock()
        self._timing = timing
        self._rules = rules
        self._rng = rng or random.SystemRandom()
        self._sleep = sleep

    def settings(self, tenant_id: str) -> CampaignSettings:
        return self._pacer.settings(tenant_id)

    def policy(self, provider: str, settings: CampaignSettings) -> ThrottlePolicy:
        return settings.policy(channel_of(provider), scale=self._timing.time_scale)

    # --- the tick -------------------------------------------------------------------------------

    def tick(self) -> dict[str, int]:
        now = self._clock.now()
        stats: Counter[str] = Counter()
        for campaign in self._store.active(since=now - FINISHED_REFRESH):
            try:
                self._late_failures(campaign, stats)
                if campaign.status is CampaignStatus.RUNNING:
                    self._run(campaign, now, stats)
                self._store.refresh_progress(campaign.id, campaign.tenant_id)
            except Exception:  # one campaign's trouble never stops the others
                logger.exception("campaign tick failed", extra={"campaign_id": campaign.id})
                stats["errors"] += 1
        return dict(stats)

    def _late_failures(self, campaign: ActiveCampaign, stats: Counter[str]) -> None:
        """Failures Meta reports after accepting a message (a ``failed`` status webhook): 131050 opts
        the number out for good, 131048 / 131049 pause the campaign."""
        for phone, code in self._store.delivery_errors(campaign.id, campaign.tenant_id):
            if code in OPT_OUT_CODES:
                self._opt_outs.opt_out(
                    campaign.tenant_id, self._hasher(phone), source="meta_131050", campaign_id=campaign.id
                )
                self._replies.mark_opted_out(campaign.tenant_id, phone, self._clock.now())
                stats["opted_out"] += 1
            elif code in META_PAUSE_CODES:
                reason = PauseReason(code="meta_limit", detail=f"Meta limitou o número ({code})")
                if self._store.auto_pause(campaign.id, campaign.tenant_id, reason):
                    stats["auto_paused"] += 1

    def _run(self, campaign: ActiveCampaign, now: datetime, stats: Counter[str]) -> None:
        if campaign.instance_status == "not_logged":
            reason = PauseReason(code="instance_disconnected", detail="a sessão do WhatsApp não está conectada")
            if self._store.auto_pause(campaign.id, campaign.tenant_id, reason):
                stats["auto_paused"] += 1
            return
        released = self._release(campaign, now)
        stale_before = now - timedelta(seconds=self._timing.stale_seconds)
        again = self._store.stale(
            campaign.id,
            campaign.tenant_id,
            released_before=now - self._timing.horizon - timedelta(seconds=self._timing.stale_seconds),
            claimed_before=stale_before,
        )
        self._publish([*released, *again], now)
        stats["released"] += len(released)
        stats["retried"] += len(again)
        if not released and not again and self._store.complete_if_done(campaign.id, campaign.tenant_id):
            stats["completed"] += 1

    def _release(self, campaign: ActiveCampaign, now: datetime) -> list[Released]:
        settings = self.settings(campaign.tenant_id)
        quiet = settings.quiet_hours
        if quiet.is_quiet(now):
            return []
        policy = self.policy(campaign.provider, settings)
        budget = None
        if policy.daily_unique_recipients is not None:
            used = self._store.tier_used(campaign.tenant_id, now - timedelta(hours=24))
            budget = max(0, policy.daily_unique_recipients - used)
        horizon = self._timing.horizon
        want = min(MAX_RELEASE_PER_TICK, math.ceil(horizon.total_seconds() / policy.mean_gap_seconds()) + 1)

        def planner(state: PacingState, queued: int, in_flight: int) -> Plan:
            limit = min(queued, max(0, want - in_flight))
            room = None if budget is None else max(0, budget - in_flight)
            return plan_slots(state, policy, quiet, now, horizon=horizon, limit=limit, rng=self._rng, budget=room)

        return self._store.release(campaign, planner, now)

    def _publish(self, released: list[Released], now: datetime) -> None:
        if not released:
            return
        jobs = [
            CampaignJob(kind="send", tenant_id=r.tenant_id, campaign_id=r.campaign_id, recipient_id=r.recipient_id)
            for r in released
        ]
        delays = [_delay(r.slot_at, now) for r in released]
        self._queue.publish(jobs, delays=delays)

    # --- one recipient --------------------------------------------------------------------------

    def decide(self, snapshot: SendSnapshot, now: datetime) -> ClaimDecision:
        """What a send job does with its recipient, from what the claim transaction sees."""
        if snapshot.campaign_status is CampaignStatus.CANCELLED:
            return ClaimDecision(action="cancel", reason="campaign_cancelled")
        if snapshot.status in FINAL:
            return ClaimDecision(action="ignore", reason=f"already_{snapshot.status}")
        if snapshot.status == "sending" and snapshot.claimed_at is not None:
            if now - snapshot.claimed_at < timedelta(seconds=self._timing.stale_seconds):
                return ClaimDecision(action="ignore", reason="in_progress")
            return ClaimDecision(action="send", reason="retry_stale_claim")
        if snapshot.campaign_status is not CampaignStatus.RUNNING:
            return ClaimDecision(action="hold", reason=f"campaign_{snapshot.campaign_status.value}")
        if snapshot.opted_out:
            return ClaimDecision(action="skip", reason="opted_out")
        if snapshot.hidden:
            return ClaimDecision(action="skip", reason="hidden")
        if self.settings(snapshot.tenant_id).quiet_hours.is_quiet(now):
            return ClaimDecision(action="hold", reason="quiet_hours")
        if snapshot.slot_at is not None:
            wait = (snapshot.slot_at - now).total_seconds()
            if wait > self._timing.inline_wait:
                return ClaimDecision(action="defer", reason="early", wait_seconds=wait)
        return ClaimDecision(action="send")

    def handle_send(self, job: CampaignJob) -> str:
        assert job.recipient_id is not None and job.campaign_id is not None
        now = self._clock.now()
        snapshot, decision = self._store.claim(
            job.recipient_id, job.tenant_id, self._hasher, lambda s: self.decide(s, now), now
        )
        if snapshot is None or decision.action in ("ignore", "hold", "cancel", "skip"):
            return decision.reason or decision.action
        if decision.action == "defer":
            self._queue.publish([job], delays=[min(MAX_DELAY_SECONDS, math.ceil(decision.wait_seconds))])
            return "deferred"
        return self._send(job, snapshot)

    def _send(self, job: CampaignJob, snapshot: SendSnapshot) -> str:
        if snapshot.personalize == "llm" and snapshot.body_source == "template" and snapshot.attempts == 0:
            snapshot = self._personalized(snapshot)
        if snapshot.slot_at is not None:
            self._wait_until(snapshot.slot_at)
        if not self._near_turn(job, snapshot):
            return "deferred"
        content = None
        if channel_of(snapshot.provider) is Channel.CLOUD:
            content = template_content(snapshot)
            if content is None:
                return self._failed(snapshot, "cloud_template_required")
        try:
            result = self._sending.send_campaign(
                snapshot.tenant_id,
                instance_id=snapshot.instance_id,
                phone_e164=snapshot.phone_e164,
                text=snapshot.body,
                idempotency_key=idempotency_key(snapshot.campaign_id, snapshot.recipient_id),
                content=content,
            )
        except ConflictError as exc:  # the first attempt is still under way (a stale claim retried early)
            self._store.failed(snapshot.recipient_id, snapshot.tenant_id, error_code=exc.code, final=False)
            return "in_progress"
        except ServiceError as exc:
            return self._failed(snapshot, exc.code)
        record = result.record
        if record.status is OutboxStatus.SENT:
            self._store.sent(
                snapshot.recipient_id,
                snapshot.tenant_id,
                outbox_id=record.id,
                message_id=record.message_id,
                at=self._clock.now(),
            )
            return "sent"  # a success never makes a pause rule fire: they are checked after failures
        # unconfirmed (a timeout): the outbox reconciles on the next attempt with the same key
        self._store.failed(
            snapshot.recipient_id, snapshot.tenant_id, error_code=record.error_code or "unconfirmed", final=False
        )
        self._check_pause(snapshot)
        return "unconfirmed"

    def _personalized(self, snapshot: SendSnapshot) -> SendSnapshot:
        """The local model's rewrite of this recipient's text, when it passes every check (facts,
        links, length, forbidden promises); the template text otherwise. Fixed before the outbox row
        exists, so a retry sends exactly what the first attempt would have."""
        if self._rewriter is None:
            return snapshot
        settings = self.settings(snapshot.tenant_id)
        instruction = settings.opt_out_instruction
        original = snapshot.body.removesuffix(instruction).rstrip()
        rules = RewriteRules(forbidden=(*RewriteRules().forbidden, *settings.forbidden_phrases))
        try:
            text = self._rewriter.rewrite(original, name=None, max_chars=rules.max_chars)
        except RewriteUnavailableError:
            return snapshot
        if rewrite_violations(original, text, rules):
            return snapshot
        body = with_opt_out(text.strip(), instruction)
        if not self._store.rewrite_body(snapshot.recipient_id, snapshot.tenant_id, body):
            return snapshot
        return snapshot.model_copy(update={"body": body, "body_source": "llm"})

    def _failed(self, snapshot: SendSnapshot, code: str) -> str:
        self._store.failed(snapshot.recipient_id, snapshot.tenant_id, error_code=code, final=True)
        if code in OPT_OUT_CODES:  # Meta 131050: the user stopped marketing messages, for good
            phone_hash = self._hasher(snapshot.phone_e164)
            self._opt_outs.opt_out(
                snapshot.tenant_id, phone_hash, source="meta_131050", campaign_id=snapshot.campaign_id
            )
            self._replies.mark_opted_out(snapshot.tenant_id, snapshot.phone_e164, self._clock.now())
        self._check_pause(snapshot)
        return "failed"

    def _check_pause(self, snapshot: SendSnapshot) -> None:
        recent = self._store.recent_outcomes(snapshot.campaign_id, snapshot.tenant_id, self._rules.window)
        reason = pause_reason(recent, self._rules)
        if reason is not None and self._store.auto_pause(snapshot.campaign_id, snapshot.tenant_id, reason):
            logger.warning(
                "campaign paused automatically", extra={"campaign_id": snapshot.campaign_id, "code": reason.code}
            )
            self._store.refresh_progress(snapshot.campaign_id, snapshot.tenant_id)

    def _wait_until(self, moment: datetime) -> None:
        wait = (moment - self._clock.now()).total_seconds()
        if wait > 0:
            self._sleep(min(wait, self._timing.inline_wait))

    def _near_turn(self, job: CampaignJob, snapshot: SendSnapshot) -> bool:
        """Whether the instance's turn (and the user's pair gap) comes soon enough to wait for it
        in-process (the paced gateway takes the turn right before the call); otherwise the
        recipient goes back with a job delayed to then."""
        s = snapshot
        wait = self._pacer.wait_seconds(s.tenant_id, s.instance_id, s.provider, s.phone_e164)
        if wait <= self._timing.inline_wait:
            return True
        later = self._clock.now() + timedelta(seconds=wait)
        self._store.requeue(snapshot.recipient_id, snapshot.tenant_id, later)
        self._queue.publish([job], delays=[min(MAX_DELAY_SECONDS, math.ceil(wait))])
        return False


def template_content(snapshot: SendSnapshot) -> OutboundContent | None:
    """The Cloud API message of a recipient: the campaign's approved template with the recipient's
    body parameters, frozen at the start."""
    if not snapshot.template_name:
        return None
    parameters = tuple(TemplateParameter(text=p) for p in snapshot.template_params or ())
    components = (TemplateComponent(type="body", parameters=parameters),) if parameters else ()
    template = TemplateSpec(
        name=snapshot.template_name, language=snapshot.template_language or "pt_BR", components=components
    )
    return OutboundContent(kind=OutboundKind.TEMPLATE, template=template)


def _delay(slot_at: datetime | None, now: datetime) -> int:
    if slot_at is None:
        return 0
    return max(0, min(MAX_DELAY_SECONDS, int((slot_at - now).total_seconds())))
