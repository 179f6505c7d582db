"""Bodies of the campaign routes, as the frontend contract publishes them: closed objects."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

from ponte.domain.campaigns.audience import AudienceSpec, InvalidRow
from ponte.domain.campaigns.lifecycle import CampaignStatus
from ponte.domain.campaigns.message import CampaignMessage
from ponte.domain.campaigns.settings import CampaignSettings

_UUID = r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"
Uuid = Annotated[str, StringConstraints(pattern=_UUID)]
Hash = Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{64}$")]
Name = Annotated[str, StringConstraints(min_length=1, max_length=120, strip_whitespace=True)]


class Closed(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class CampaignRequest(Closed):
    """Create (POST /campaigns) or replace (PUT /campaigns/{id}) a campaign's content. ``csv``: the
    uploaded file's text when ``audience.kind`` is ``csv`` (phones in any form, optional columns
    nome, vencimento, valor, link; at most 2 MB / 50,000 rows)."""

    name: Name
    instance_id: Uuid
    audience: AudienceSpec
    message: CampaignMessage
    csv: Annotated[str, StringConstraints(max_length=2 * 1024 * 1024)] | None = None

    @model_validator(mode="after")
    def _csv_with_csv_audience(self) -> CampaignRequest:
        if (self.audience.kind == "csv") != (self.csv is not None):
            raise ValueError("csv is required with a csv audience, and only then")
        return self


class CampaignProgress(Closed):
    """Recipient counts: ``queued`` waits (planned or being sent); ``sent`` includes delivered and
    read; ``skipped`` was dropped at send time (opted out or hidden since the start)."""

    total: int = 0
    queued: int = 0
    sent: int = 0
    delivered: int = 0
    read: int = 0
    failed: int = 0
    skipped: int = 0
    cancelled: int = 0
    replied: int = 0
    opted_out: int = 0
    leads_created: int = 0


class AudienceCounts(Closed):
    candidates: int
    recipients: int
    excluded: dict[str, int]  # no_phone, hidden, opted_out, duplicate, missing_variable
    invalid_rows: dict[str, int] = {}  # CSV rows that could not be read, by reason


class CsvReport(Closed):
    rows: int  # valid rows kept
    total_rows: int
    invalid_counts: dict[str, int]
    invalid: list[InvalidRow]  # the first 100, with row numbers


CampaignAction = Literal["edit", "preview", "approve", "start", "pause", "resume", "cancel"]


class CampaignView(Closed):
    id: str
    tenant_id: str
    instance_id: str
    name: str
    status: CampaignStatus
    audience: AudienceSpec
    message: CampaignMessage
    content_hash: str
    preview_hash: str | None
    previewed_at: datetime | None
    approved_by: str | None
    approved_at: datetime | None
    started_at: datetime | None
    paused_at: datetime | None
    pause_code: str | None
    pause_reason: str | None
    completed_at: datetime | None
    cancelled_at: datetime | None
    csv: CsvReport | None
    audience_report: AudienceCounts | None  # frozen at start
    progress: CampaignProgress
    actions: list[CampaignAction]
    created_by: str | None
    created_at: datetime
    updated_at: datetime


class CampaignSummary(Closed):
    id: str
    tenant_id: str
    instance_id: str
    name: str
    status: CampaignStatus
    pause_code: str | None
    progress: CampaignProgress
    created_at: datetime
    started_at: datetime | None
    completed_at: datetime | None


class CampaignPage(Closed):
    items: list[CampaignSummary]
    next_cursor: str | None


class PreviewRequest(Closed):
    sample_size: int = Field(default=5, ge=1, le=20)


class RewritePreview(Closed):
    text: str | None  # the model's rewrite, when it passed every check
    violations: list[str]  # why it was refused (the template text goes out then)
    source: Literal["llm", "template", "unavailable"]


class PreviewSample(Closed):
    ordinal: int
    contact_id: str | None
    phone_e164: str
    name: str | None
    body: str  # exactly what goes out (template path), the opt-out instruction included
    template_params: list[str] | None  # Cloud API: the template's parameters
    rewrite: RewritePreview | None  # with personalize = llm


class ThrottleSummary(Closed):
    channel: Literal["unofficial", "cloud"]
    min_gap_seconds: float
    max_gap_seconds: float
    burst_size: int
    long_pause_seconds: list[float]
    daily_cap: int | None
    daily_unique_recipients: int | None
    estimated_seconds: float  # quiet hours and daily caps aside


class CampaignPreview(Closed):
    """What a person approves: the content hash, who gets it (and who not, why), samples."""

    campaign_id: str
    content_hash: str
    audience: AudienceCounts
    samples: list[PreviewSample]
    throttle: ThrottleSummary
    quiet_now: bool


class ApproveRequest(Closed):
    content_hash: Hash  # the previewed content: approving anything else is refused


class CampaignReply(Closed):
    recipient_id: str
    contact_id: str | None
    phone_e164: str
    sent_at: datetime | None
    replied_at: datetime
    reply_message_id: str | None
    conversation_id: str | None
    body: str | None
    lead_id: str | None  # the lead this reply created
    opted_out: bool


class CampaignReplyPage(Closed):
    items: list[CampaignReply]
    next_cursor: str | None


class CampaignSettingsView(Closed):
    tenant_id: str
    settings: CampaignSettings
    updated_at: datetime | None


class CampaignSettingsRequest(Closed):
    settings: CampaignSettings


class OptOutRequest(Closed):
    phone: Annotated[str, StringConstraints(min_length=3, max_length=64)]
    tenant_id: Uuid | None = None


class OptOutView(Closed):
    tenant_id: str
    channel: Literal["whatsapp"]
    phone_hash: str  # HMAC of the number: the number itself is never kept
    source: str
    campaign_id: str | None
    opted_out_at: datetime
    opted_in_at: datetime | None
    opted_out: bool


class OptOutStatus(Closed):
    """Whether one number is on the suppression list (GET /opt-outs/check?phone=...)."""

    tenant_id: str
    phone_e164: str
    opted_out: bool
    entry: OptOutView | None


class OptOutPage(Closed):
    items: list[OptOutView]
    next_cursor: str | None
