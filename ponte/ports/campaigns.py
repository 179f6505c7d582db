"""What campaigns need from storage, the queue and the model.

``CampaignStore`` runs under the caller's RLS (the proxy's routes); ``CampaignSendStore`` and
``OptOutStore`` run as the service for one tenant (the campaign function). Decisions are taken
by the services from snapshots; the stores apply them atomically.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

from ponte.domain.campaign_job import CampaignJob
from ponte.domain.campaigns.api import CampaignProgress, CampaignReply, CsvReport, OptOutView
from ponte.domain.campaigns.audience import AudienceReport, AudienceSpec, Candidate, CsvRow
from ponte.domain.campaigns.auto_pause import PauseReason, SendOutcome
from ponte.domain.campaigns.lifecycle import CampaignStatus
from ponte.domain.campaigns.message import CampaignMessage
from ponte.domain.campaigns.settings import CampaignSettings
from ponte.domain.campaigns.throttle import PacingState, Plan

Claims = Mapping[str, Any]


class Row(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class InstanceRef(Row):
    id: str
    tenant_id: str
    provider: str
    status: str


class CampaignRecord(Row):
    id: str
    tenant_id: str
    instance_id: str
    name: str
    status: CampaignStatus
    audience: AudienceSpec
    message: CampaignMessage
    content_hash: str
    preview_hash: str | None = None
    previewed_at: datetime | None = None
    approved_hash: str | None = None
    approved_by: str | None = None
    approved_at: datetime | None = None
    started_at: datetime | None = None
    paused_at: datetime | None = None
    pause_code: str | None = None
    pause_reason: str | None = None
    completed_at: datetime | None = None
    cancelled_at: datetime | None = None
    csv_report: CsvReport | None = None
    audience_report: AudienceReport | None = None
    progress: CampaignProgress = CampaignProgress()
    created_by: str | None = None
    created_at: datetime
    updated_at: datetime


class CampaignDraft(Row):
    """A campaign's content as a person wrote it (create or replace)."""

    tenant_id: str
    instance_id: str
    name: str
    audience: AudienceSpec
    message: CampaignMessage
    content_hash: str
    csv_rows: tuple[CsvRow, ...] = ()
    csv_report: CsvReport | None = None


class FrozenRecipient(Row):
    ordinal: int
    contact_id: str | None
    customer_id: str | None
    phone_e164: str
    body: str
    template_params: tuple[str, ...] | None = None


class CampaignStore(ABC):
    """The routes' side, under the caller's row-level security."""

    @abstractmethod
    def instance(self, claims: Claims, instance_id: str) -> InstanceRef | None: ...

    @abstractmethod
    def role(self, claims: Claims, tenant_id: str) -> str | None:
        """The caller's role in the tenant (owner, admin, agent), None when not a member."""

    @abstractmethod
    def admin_tenants(self, claims: Claims) -> list[str]: ...

    @abstractmethod
    def create(self, claims: Claims, draft: CampaignDraft) -> CampaignRecord: ...

    @abstractmethod
    def replace(self, claims: Claims, campaign_id: str, draft: CampaignDraft) -> CampaignRecord | None:
        """New content for a draft or approved campaign (back to draft, approval void); None when
        it is in another state (or gone)."""

    @abstractmethod
    def get(self, claims: Claims, campaign_id: str) -> CampaignRecord | None: ...

    @abstractmethod
    def page(
        self, claims: Claims, *, tenant_id: str | None, before: tuple[datetime, str] | None, limit: int
    ) -> list[CampaignRecord]: ...

    @abstractmethod
    def candidates(self, claims: Claims, campaign: CampaignRecord) -> Iterable[Candidate]:
        """Everyone the audience names, in a stable order (the send order)."""

    @abstractmethod
    def previewed(self, claims: Claims, campaign_id: str, content_hash: str) -> None: ...

    @abstractmethod
    def approve(self, claims: Claims, campaign_id: str, content_hash: str) -> CampaignRecord | None:
        """Draft -> approved for exactly the previewed content; None when that does not hold."""

    @abstractmethod
    def start(
        self, claims: Claims, campaign_id: str, recipients: Sequence[FrozenRecipient], report: AudienceReport
    ) -> CampaignRecord | None:
        """Approved -> running with the audience frozen; None when not approved (any more)."""

    @abstractmethod
    def transition(
        self,
        claims: Claims,
        campaign_id: str,
        *,
        expected: frozenset[CampaignStatus],
        to: CampaignStatus,
        action: str,
        reason: str | None = None,
    ) -> CampaignRecord | None:
        """Pause, resume or cancel (open recipients cancelled with it); None when not in ``expected``."""

    @abstractmethod
    def progress(self, claims: Claims, campaign_id: str) -> CampaignProgress: ...

    @abstractmethod
    def replies(
        self, claims: Claims, campaign_id: str, *, before: tuple[datetime, str] | None, limit: int
    ) -> list[CampaignReply]: ...

    @abstractmethod
    def settings(self, claims: Claims, tenant_id: str) -> tuple[CampaignSettings, datetime | None]: ...

    @abstractmethod
    def save_settings(self, claims: Claims, tenant_id: str, settings: CampaignSettings) -> datetime: ...


class OptOutStore(ABC):
    """The suppression list and consent records (keyed hashes of numbers)."""

    @abstractmethod
    def opted_out(self, tenant_id: str, hashes: Sequence[str]) -> set[str]:
        """Which of ``hashes`` are opted out now."""

    @abstractmethod
    def opt_out(
        self,
        tenant_id: str,
        phone_hash: str,
        *,
        source: str,
        campaign_id: str | None = None,
        actor: Claims | None = None,
    ) -> bool:
        """Record an opt-out (and its consent record); False when it was already opted out."""

    @abstractmethod
    def opt_in(self, tenant_id: str, phone_hash: str, *, source: str, actor: Claims | None = None) -> bool:
        """Record an opt-in; False when the number was not opted out."""

    @abstractmethod
    def page(
        self, claims: Claims, tenant_id: str, *, before: tuple[datetime, str] | None, limit: int
    ) -> list[OptOutView]: ...

    @abstractmethod
    def find(self, claims: Claims, tenant_id: str, phone_hash: str) -> OptOutView | None: ...


# --- the sender -----------------------------------------------------------------------------------


class ActiveCampaign(Row):
    id: str
    tenant_id: str
    instance_id: str
    provider: str
    instance_status: str
    status: CampaignStatus
    completed_at: datetime | None = None


class Released(Row):
    recipient_id: str
    campaign_id: str
    tenant_id: str
    slot_at: datetime | None


class SendSnapshot(Row):
    """A recipient, its campaign and instance, as one claim transaction sees them."""

    recipient_id: str
    campaign_id: str
    tenant_id: str
    instance_id: str
    provider: str
    campaign_status: CampaignStatus
    status: str
    phone_e164: str
    body: str
    template_params: tuple[str, ...] | None
    template_name: str | None
    template_language: str | None
    slot_at: datetime | None
    claimed_at: datetime | None
    attempts: int
    opted_out: bool
    hidden: bool
    personalize: str = "none"  # llm: the first attempt asks the model for a rewrite
    body_source: str = "template"


class ClaimDecision(Row):
    """What a send job does with its recipient (see ``CampaignSender.decide``)."""

    action: Literal["send", "hold", "cancel", "skip", "defer", "ignore"]
    reason: str | None = None
    wait_seconds: float = 0.0


Planner = Callable[[PacingState, int, int], Plan]  # (state, queued, in flight) -> plan


class CampaignSendStore(ABC):
    @abstractmethod
    def active(self, *, since: datetime) -> list[ActiveCampaign]:
        """Running and paused campaigns, and those completed or cancelled after ``since``."""

    @abstractmethod
    def settings(self, tenant_id: str) -> CampaignSettings: ...

    @abstractmethod
    def release(self, campaign: ActiveCampaign, planner: Planner, now: datetime) -> list[Released]:
        """Under the instance's pacing lock: plan slots for the next queued recipients (in order),
        mark them released at those slots, keep the new pacing state."""

    @abstractmethod
    def stale(
        self, campaign_id: str, tenant_id: str, *, released_before: datetime, claimed_before: datetime
    ) -> list[Released]:
        """Recipients released or claimed long ago and never finished (a lost job, a dead process)."""

    @abstractmethod
    def claim(
        self, recipient_id: str, tenant_id: str, phone_hash_of: Callable[[str], str],
        decide: Callable[[SendSnapshot], ClaimDecision], now: datetime,
    ) -> tuple[SendSnapshot | None, ClaimDecision]:  # fmt: skip
        """Lock the recipient, let ``decide`` choose, apply it: send -> sending (claimed now),
        hold -> queued, cancel / skip -> final; (None, ignore) when the recipient is gone."""

    @abstractmethod
    def gate(
        self,
        instance_id: str,
        tenant_id: str,
        now: Callable[[], datetime],
        draw: Callable[[int], tuple[float, int]] | None,
    ) -> float:
        """Seconds still to wait before this instance may send (its last send plus the gap that send
        drew); 0 means go. With ``draw`` (sends in the burst -> next gap, new count) the send takes
        its turn under the instance's pacing lock: recorded as the last, with the gap it draws for
        the next. ``now`` is read once the lock is held, so a send that waited for the lock is not
        recorded as earlier than it is."""

    @abstractmethod
    def last_to_recipient(self, instance_id: str, tenant_id: str, phone_e164: str) -> datetime | None: ...

    @abstractmethod
    def rewrite_body(self, recipient_id: str, tenant_id: str, body: str) -> bool:
        """The model's checked rewrite replaces the template text, before the first send only."""

    @abstractmethod
    def requeue(self, recipient_id: str, tenant_id: str, slot_at: datetime) -> None:
        """A claimed recipient goes back to released (the instance was busy)."""

    @abstractmethod
    def sent(
        self, recipient_id: str, tenant_id: str, *, outbox_id: str, message_id: str | None, at: datetime
    ) -> None: ...

    @abstractmethod
    def failed(self, recipient_id: str, tenant_id: str, *, error_code: str, final: bool) -> None:
        """``final`` False: the send's fate is unknown (unconfirmed); it stays claimed for a retry."""

    @abstractmethod
    def recent_outcomes(self, campaign_id: str, tenant_id: str, limit: int) -> list[SendOutcome]: ...

    @abstractmethod
    def auto_pause(self, campaign_id: str, tenant_id: str, reason: PauseReason) -> bool: ...

    @abstractmethod
    def complete_if_done(self, campaign_id: str, tenant_id: str) -> bool: ...

    @abstractmethod
    def refresh_progress(self, campaign_id: str, tenant_id: str) -> CampaignProgress: ...

    @abstractmethod
    def delivery_errors(self, campaign_id: str, tenant_id: str) -> list[tuple[str, str]]:
        """Sent messages that failed afterwards (a Cloud API ``failed`` status with Meta's code):
        (number, machine code) of each, marked on the recipient so that each is seen once."""

    @abstractmethod
    def tier_used(self, tenant_id: str, since: datetime) -> int:
        """Distinct recipients of the tenant's Cloud API campaign sends since ``since``."""


class InboundMessage(Row):
    id: str
    tenant_id: str
    instance_id: str
    conversation_id: str
    contact_id: str
    phone_e164: str | None
    kind: str
    body: str | None
    occurred_at: datetime
    created_lead_id: str | None  # the lead this message created
    # a campaign message went to the number before this one and is not answered yet: only then can
    # the message be a reply (most inbound messages are not, and skip the attribution's write)
    awaits_reply: bool


class ReplyStore(ABC):
    @abstractmethod
    def inbound(self, tenant_id: str, message_ids: Sequence[str]) -> list[InboundMessage]: ...

    @abstractmethod
    def attribute(self, message: InboundMessage, window_hours: int) -> list[str]:
        """Mark the recipients this reply answers (sent to the number within the window, not yet
        replied); the campaign ids touched."""

    @abstractmethod
    def mark_opted_out(self, tenant_id: str, phone_e164: str, at: datetime) -> list[str]:
        """The number's open recipients skipped (opted_out), its recent ones marked; campaign ids."""

    @abstractmethod
    def contacted_since(self, tenant_id: str, phone_e164: str, since: datetime) -> bool:
        """Whether a campaign message went to the number since ``since``."""


class CampaignQueue(ABC):
    @abstractmethod
    def publish(self, jobs: Sequence[CampaignJob], *, delays: Sequence[int] | None = None) -> None:
        """Jobs onto the campaign queue (``delays``: seconds per job, at most 900)."""


class Rewriter(ABC):
    """The local model's rewrite of one recipient's text (the inference worker)."""

    @abstractmethod
    def rewrite(self, text: str, *, name: str | None, max_chars: int) -> str:
        """Raises :class:`RewriteUnavailableError` when the model cannot answer."""


class RewriteUnavailableError(Exception):
    pass
