"""Campaigns as a person runs them (the proxy's routes): write, preview, approve, start, pause,
resume, cancel, follow. Owners and admins act; members read.

Nothing goes out before approval: a person approves the content hash they previewed; editing
afterwards voids it (and the database refuses a running campaign whose approved hash is not its
content hash). The audience is frozen at start with each recipient's exact text.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Callable, Mapping
from typing import Any

from ponte.domain.campaigns.api import (
    ApproveRequest,
    AudienceCounts,
    CampaignPage,
    CampaignPreview,
    CampaignProgress,
    CampaignReplyPage,
    CampaignRequest,
    CampaignSummary,
    CampaignView,
    CsvReport,
    PreviewRequest,
    PreviewSample,
    RewritePreview,
    ThrottleSummary,
)
from ponte.domain.campaigns.audience import Audience, CsvError, CsvRow, parse_csv, select_audience
from ponte.domain.campaigns.compose import Composed, ComposeError, compose
from ponte.domain.campaigns.lifecycle import (
    CampaignStateError,
    CampaignStatus,
    Command,
    allowed_commands,
    next_status,
)
from ponte.domain.campaigns.rewrite import RewriteRules, rewrite_violations
from ponte.domain.campaigns.settings import CampaignSettings
from ponte.domain.campaigns.throttle import Channel, channel_of, estimate_seconds
from ponte.domain.identity import identity_from_jid
from ponte.ports.campaigns import (
    CampaignDraft,
    CampaignRecord,
    CampaignStore,
    FrozenRecipient,
    InstanceRef,
    OptOutStore,
    Rewriter,
    RewriteUnavailableError,
)
from ponte.ports.clock import Clock
from ponte.ports.privacy import PrivacySettings
from ponte.services.exceptions import (
    ConflictError,
    ForbiddenError,
    NotFoundError,
    ServiceError,
    UnprocessableError,
)
from ponte.services.paging import decode_cursor, encode_cursor, id_param, page_limit
from ponte.services.requests import parse_body

Claims = Mapping[str, Any]
PhoneHasher = Callable[[str], str]
ADMIN_ROLES = frozenset({"owner", "admin"})

logger = logging.getLogger(__name__)


class CampaignsUnavailableError(ServiceError):
    """No audit key: opt-outs cannot be checked, so nothing is previewed nor sent."""

    status_code = 503
    code = "campaigns_unavailable"


def content_hash(request: CampaignRequest, csv_rows: tuple[CsvRow, ...]) -> str:
    data = {
        "name": request.name,
        "instance_id": request.instance_id,
        "audience": request.audience.model_dump(mode="json"),
        "message": request.message.model_dump(mode="json"),
        "csv": [[r.phone_e164, r.values.model_dump(mode="json", exclude_none=True)] for r in csv_rows],
    }
    return hashlib.sha256(json.dumps(data, sort_keys=True, ensure_ascii=False).encode()).hexdigest()


def phone_forms(phone_e164: str) -> set[str]:
    identity = identity_from_jid(f"{phone_e164.lstrip('+')}@s.whatsapp.net")
    return {phone_e164, identity.key, *identity.aliases}


class CampaignService:
    def __init__(
        self,
        store: CampaignStore,
        opt_outs: OptOutStore,
        privacy: PrivacySettings,
        hasher: PhoneHasher | None,
        *,
        rewriter: Rewriter | None = None,
        clock: Clock | None = None,
        time_scale: float = 1.0,
    ) -> None:
        self._store = store
        self._opt_outs = opt_outs
        self._privacy = privacy
        self._hasher = hasher
        self._rewriter = rewriter
        self._clock = clock or Clock()
        self._scale = time_scale

    # --- guards ---------------------------------------------------------------------------------

    def _admin(self, claims: Claims, tenant_id: str) -> None:
        if self._store.role(claims, tenant_id) not in ADMIN_ROLES:
            raise ForbiddenError("only owners and admins of the tenant run campaigns", code="admins_only")

    def _campaign(self, claims: Claims, campaign_id: str) -> CampaignRecord:
        found = self._store.get(claims, id_param(campaign_id, "campaign_id") or "")
        if found is None:
            raise NotFoundError("no such campaign", code="campaign_not_found")
        return found

    def _hash(self) -> PhoneHasher:
        if self._hasher is None:
            raise CampaignsUnavailableError("campaigns need the audit hash key (opt-outs are kept as keyed hashes)")
        return self._hasher

    @staticmethod
    def _step(campaign: CampaignRecord, command: Command) -> CampaignStatus:
        try:
            return next_status(campaign.status, command)
        except CampaignStateError as exc:
            raise ConflictError(str(exc), code=exc.code) from exc

    def _instance(self, claims: Claims, instance_id: str) -> InstanceRef:
        instance = self._store.instance(claims, instance_id)
        if instance is None:
            raise NotFoundError("no such WhatsApp instance", code="instance_not_found")
        return instance

    # --- writing --------------------------------------------------------------------------------

    def _draft(self, claims: Claims, body: Any) -> CampaignDraft:
        request = parse_body(CampaignRequest, body)
        instance = self._instance(claims, request.instance_id)
        self._admin(claims, instance.tenant_id)
        rows: tuple[CsvRow, ...] = ()
        report = None
        if request.csv is not None:
            try:
                parsed = parse_csv(request.csv)
            except CsvError as exc:
                raise UnprocessableError(str(exc), code="invalid_csv") from exc
            rows = parsed.rows
            report = CsvReport(
                rows=len(parsed.rows),
                total_rows=parsed.total_rows,
                invalid_counts=parsed.invalid_counts,
                invalid=list(parsed.invalid),
            )
        if channel_of(instance.provider) is Channel.CLOUD and request.message.cloud_template is None:
            raise UnprocessableError("a Cloud API campaign sends an approved template", code="cloud_template_required")
        return CampaignDraft(
            tenant_id=instance.tenant_id,
            instance_id=instance.id,
            name=request.name,
            audience=request.audience,
            message=request.message,
            content_hash=content_hash(request, rows),
            csv_rows=rows,
            csv_report=report,
        )

    def create(self, claims: Claims, body: Any) -> CampaignView:
        return self._view(self._store.create(claims, self._draft(claims, body)))

    def replace(self, claims: Claims, campaign_id: str, body: Any) -> CampaignView:
        campaign = self._campaign(claims, campaign_id)
        self._admin(claims, campaign.tenant_id)
        self._step(campaign, Command.EDIT)
        draft = self._draft(claims, body)
        if draft.tenant_id != campaign.tenant_id:
            raise UnprocessableError("the instance belongs to another tenant", code="instance_not_found")
        updated = self._store.replace(claims, campaign.id, draft)
        if updated is None:
            raise ConflictError("the campaign changed state meanwhile", code="campaign_changed")
        return self._view(updated)

    # --- reading --------------------------------------------------------------------------------

    def get(self, claims: Claims, campaign_id: str) -> CampaignView:
        return self._view(self._campaign(claims, campaign_id))

    def page(self, claims: Claims, params: Mapping[str, str]) -> CampaignPage:
        limit = page_limit(params, default=20, maximum=100)
        tenant_id = id_param(params.get("tenant_id"), "tenant_id")
        before = None
        if params.get("cursor"):
            at, key = decode_cursor(params["cursor"])
            before = (at, id_param(str(key), "cursor") or "")
        records = self._store.page(claims, tenant_id=tenant_id, before=before, limit=limit + 1)
        items = [
            CampaignSummary(
                id=r.id, tenant_id=r.tenant_id, instance_id=r.instance_id, name=r.name, status=r.status,
                pause_code=r.pause_code, progress=r.progress, created_at=r.created_at, started_at=r.started_at,
                completed_at=r.completed_at,
            )
            for r in records[:limit]
        ]  # fmt: skip
        cursor = encode_cursor(records[limit - 1].created_at, records[limit - 1].id) if len(records) > limit else None
        return CampaignPage(items=items, next_cursor=cursor)

    def progress(self, claims: Claims, campaign_id: str) -> CampaignProgress:
        campaign = self._campaign(claims, campaign_id)
        return self._store.progress(claims, campaign.id)

    def replies(self, claims: Claims, campaign_id: str, params: Mapping[str, str]) -> CampaignReplyPage:
        campaign = self._campaign(claims, campaign_id)
        limit = page_limit(params, default=50, maximum=200)
        before = None
        if params.get("cursor"):
            at, key = decode_cursor(params["cursor"])
            before = (at, id_param(str(key), "cursor") or "")
        items = self._store.replies(claims, campaign.id, before=before, limit=limit + 1)
        cursor = None
        if len(items) > limit:
            last = items[limit - 1]
            cursor = encode_cursor(last.replied_at, last.recipient_id)
        return CampaignReplyPage(items=items[:limit], next_cursor=cursor)

    def _view(self, r: CampaignRecord) -> CampaignView:
        report = r.audience_report
        return CampaignView(
            id=r.id, tenant_id=r.tenant_id, instance_id=r.instance_id, name=r.name, status=r.status,
            audience=r.audience, message=r.message, content_hash=r.content_hash, preview_hash=r.preview_hash,
            previewed_at=r.previewed_at, approved_by=r.approved_by, approved_at=r.approved_at,
            started_at=r.started_at, paused_at=r.paused_at, pause_code=r.pause_code, pause_reason=r.pause_reason,
            completed_at=r.completed_at, cancelled_at=r.cancelled_at, csv=r.csv_report,
            audience_report=AudienceCounts.model_validate(report.model_dump()) if report else None,
            progress=r.progress, actions=[c.value for c in allowed_commands(r.status)],  # type: ignore[misc]
            created_by=r.created_by, created_at=r.created_at, updated_at=r.updated_at,
        )  # fmt: skip

    # --- audience and messages ------------------------------------------------------------------

    def _audience(self, claims: Claims, campaign: CampaignRecord) -> Audience:
        hasher = self._hash()
        candidates = list(self._store.candidates(claims, campaign))
        phones = sorted({c.phone_e164 for c in candidates if c.phone_e164})
        forms = {phone: phone_forms(phone) for phone in phones}
        hidden_forms = self._privacy.hidden_among(campaign.tenant_id, sorted({f for fs in forms.values() for f in fs}))
        hidden = frozenset(phone for phone, fs in forms.items() if fs & hidden_forms)
        hashes = {phone: hasher(phone) for phone in phones}
        opted = self._opt_outs.opted_out(campaign.tenant_id, sorted(set(hashes.values())))
        invalid = campaign.csv_report.invalid_counts if campaign.csv_report else None
        return select_audience(
            candidates,
            campaign.message,
            hidden=hidden,
            is_opted_out=lambda phone: hashes[phone] in opted,
            invalid_rows=invalid,
        )

    def _compose(
        self, campaign: CampaignRecord, audience: Audience, settings: CampaignSettings, provider: str
    ) -> list[Composed]:
        channel = channel_of(provider)
        policy = settings.policy(channel, scale=self._scale)
        try:
            return compose(
                audience.recipients,
                campaign.message,
                channel=channel,
                opt_out_instruction=settings.opt_out_instruction,
                max_identical=policy.max_identical_bodies,
            )
        except ComposeError as exc:
            raise UnprocessableError(str(exc), code=exc.code) from exc

    def preview(self, claims: Claims, campaign_id: str, body: Any) -> CampaignPreview:
        request = parse_body(PreviewRequest, body if body is not None else {})
        campaign = self._campaign(claims, campaign_id)
        self._admin(claims, campaign.tenant_id)
        self._step(campaign, Command.PREVIEW)
        instance = self._instance(claims, campaign.instance_id)
        settings, _ = self._store.settings(claims, campaign.tenant_id)
        audience = self._audience(claims, campaign)
        composed = self._compose(campaign, audience, settings, instance.provider)
        samples = [self._sample(c, campaign, settings) for c in composed[: request.sample_size]]
        channel = channel_of(instance.provider)
        policy = settings.policy(channel, scale=self._scale)
        if campaign.status is CampaignStatus.DRAFT:
            self._store.previewed(claims, campaign.id, campaign.content_hash)
        return CampaignPreview(
            campaign_id=campaign.id,
            content_hash=campaign.content_hash,
            audience=AudienceCounts.model_validate(audience.report.model_dump()),
            samples=samples,
            throttle=ThrottleSummary(
                channel=channel.value,
                min_gap_seconds=policy.min_gap_seconds,
                max_gap_seconds=policy.max_gap_seconds,
                burst_size=policy.burst_size,
                long_pause_seconds=[policy.long_pause_min_seconds, policy.long_pause_max_seconds],
                daily_cap=policy.daily_cap,
                daily_unique_recipients=policy.daily_unique_recipients,
                estimated_seconds=round(estimate_seconds(len(composed), policy), 1),
            ),
            quiet_now=settings.quiet_hours.is_quiet(self._clock.now()),
        )

    def _sample(self, composed: Composed, campaign: CampaignRecord, settings: CampaignSettings) -> PreviewSample:
        r = composed.recipient
        rewrite = None
        if campaign.message.personalize == "llm":
            rewrite = self._rewrite(composed, settings)
        return PreviewSample(
            ordinal=r.ordinal,
            contact_id=r.contact_id,
            phone_e164=r.phone_e164,
            name=r.values.name,
            body=composed.body,
            template_params=list(composed.template_params) if composed.template_params is not None else None,
            rewrite=rewrite,
        )

    def _rewrite(self, composed: Composed, settings: CampaignSettings) -> RewritePreview:
        if self._rewriter is None:
            return RewritePreview(text=None, violations=[], source="unavailable")
        original = composed.body.removesuffix(settings.opt_out_instruction).rstrip()
        rules = RewriteRules(forbidden=(*RewriteRules().forbidden, *settings.forbidden_phrases))
        try:
            text = self._rewriter.rewrite(original, name=composed.recipient.values.name, max_chars=rules.max_chars)
        except RewriteUnavailableError:
            return RewritePreview(text=None, violations=[], source="unavailable")
        problems = rewrite_violations(original, text, rules)
        if problems:
            return RewritePreview(text=text, violations=problems, source="template")
        return RewritePreview(text=f"{text}\n\n{settings.opt_out_instruction}", violations=[], source="llm")

    # --- approval and the run -------------------------------------------------------------------

    def approve(self, claims: Claims, campaign_id: str, body: Any) -> CampaignView:
        request = parse_body(ApproveRequest, body)
        campaign = self._campaign(claims, campaign_id)
        self._admin(claims, campaign.tenant_id)
        self._step(campaign, Command.APPROVE)
        if request.content_hash != campaign.content_hash:
            raise ConflictError("the campaign changed since this preview: preview it again", code="content_changed")
        if campaign.preview_hash != campaign.content_hash:
            raise ConflictError("preview the campaign before approving it", code="not_previewed")
        approved = self._store.approve(claims, campaign.id, request.content_hash)
        if approved is None:
            raise ConflictError("the campaign changed meanwhile: preview it again", code="campaign_changed")
        logger.info("campaign approved", extra={"campaign_id": campaign.id})
        return self._view(approved)

    def start(self, claims: Claims, campaign_id: str) -> CampaignView:
        campaign = self._campaign(claims, campaign_id)
        self._admin(claims, campaign.tenant_id)
        self._step(campaign, Command.START)
        instance = self._instance(claims, campaign.instance_id)
        if instance.status == "not_logged":
            raise ConflictError("the WhatsApp instance is not logged in", code="instance_not_connected")
        settings, _ = self._store.settings(claims, campaign.tenant_id)
        audience = self._audience(claims, campaign)
        composed = self._compose(campaign, audience, settings, instance.provider)
        frozen = [
            FrozenRecipient(
                ordinal=c.recipient.ordinal,
                contact_id=c.recipient.contact_id,
                customer_id=c.recipient.customer_id,
                phone_e164=c.recipient.phone_e164,
                body=c.body,
                template_params=c.template_params,
            )
            for c in composed
        ]
        started = self._store.start(claims, campaign.id, frozen, audience.report)
        if started is None:
            raise ConflictError("the campaign changed meanwhile", code="campaign_changed")
        logger.info("campaign started", extra={"campaign_id": campaign.id, "recipients": len(frozen)})
        return self._view(started)

    def _move(self, claims: Claims, campaign_id: str, command: Command, action: str) -> CampaignView:
        campaign = self._campaign(claims, campaign_id)
        self._admin(claims, campaign.tenant_id)
        to = self._step(campaign, command)
        expected = frozenset(s for s in CampaignStatus if _allows(s, command))
        moved = self._store.transition(claims, campaign.id, expected=expected, to=to, action=action)
        if moved is None:
            raise ConflictError("the campaign changed state meanwhile", code="campaign_changed")
        return self._view(moved)

    def pause(self, claims: Claims, campaign_id: str) -> CampaignView:
        return self._move(claims, campaign_id, Command.PAUSE, "paused")

    def resume(self, claims: Claims, campaign_id: str) -> CampaignView:
        return self._move(claims, campaign_id, Command.RESUME, "resumed")

    def cancel(self, claims: Claims, campaign_id: str) -> CampaignView:
        return self._move(claims, campaign_id, Command.CANCEL, "cancelled")


def _allows(status: CampaignStatus, command: Command) -> bool:
    try:
        next_status(status, command)
    except CampaignStateError:
        return False
    return True
