"""The campaign routes' storage, under the caller's RLS (``Database.as_user``): owners and admins
write, members read. Every state change is one conditional UPDATE, so two people pressing the
same button change it once; the audit row goes in the same transaction."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

import psycopg
from psycopg.types.json import Jsonb

from ponte.adapters.postgres.db import Database
from ponte.domain.campaigns.api import CampaignProgress, CampaignReply
from ponte.domain.campaigns.audience import AudienceReport, Candidate, parse_amount, parse_day
from ponte.domain.campaigns.lifecycle import CampaignStatus
from ponte.domain.campaigns.message import RecipientValues
from ponte.domain.campaigns.settings import CampaignSettings
from ponte.domain.identity import canonical_phone
from ponte.ports.campaigns import (
    CampaignDraft,
    CampaignRecord,
    CampaignStore,
    Claims,
    FrozenRecipient,
    InstanceRef,
)

_COLUMNS = (
    "c.id::text, c.tenant_id::text, c.instance_id::text, c.name, c.status, c.audience, c.message, c.content_hash,"
    " c.preview_hash, c.previewed_at, c.approved_hash, c.approved_by::text, c.approved_at, c.started_at, c.paused_at,"
    " c.pause_code, c.pause_reason, c.completed_at, c.cancelled_at, c.csv_report, c.audience_report, c.progress,"
    " c.created_by::text, c.created_at, c.updated_at"
)
# keys of customers.sales_summary read as the billing variables of a segment's recipients
DUE_DATE_KEYS = ("due_date", "vencimento", "next_due_date")
AMOUNT_KEYS = ("amount_due", "valor", "amount")

PROGRESS_SQL = """
select count(*) as total,
  count(*) filter (where r.status in ('queued', 'released', 'sending')) as queued,
  count(*) filter (where r.status = 'sent') as sent,
  count(*) filter (where r.status = 'sent' and m.status in ('delivered', 'read', 'played')) as delivered,
  count(*) filter (where r.status = 'sent' and m.status in ('read', 'played')) as read,
  count(*) filter (where r.status = 'failed') as failed,
  count(*) filter (where r.status = 'skipped') as skipped,
  count(*) filter (where r.status = 'cancelled') as cancelled,
  count(r.replied_at) as replied,
  count(r.opted_out_at) as opted_out,
  count(r.reply_lead_id) as leads_created
from public.campaign_recipients r
left join public.messages m on m.id = r.message_id
where r.campaign_id = %s
"""


def record_of(row: dict[str, Any]) -> CampaignRecord:
    return CampaignRecord.model_validate({**row, "progress": row.get("progress") or {}})


def progress_of(conn: psycopg.Connection[Any], campaign_id: str) -> CampaignProgress:
    row = conn.execute(PROGRESS_SQL, (campaign_id,)).fetchone()
    return CampaignProgress.model_validate(row or {})


def audit(conn: psycopg.Connection[Any], campaign: CampaignRecord, action: str, reason: str | None = None) -> None:
    conn.execute(
        "insert into public.campaign_audit (tenant_id, campaign_id, action, actor_user_id, content_hash, reason)"
        " values (%s, %s, %s, (select auth.uid()), %s, %s)",
        (campaign.tenant_id, campaign.id, action, campaign.content_hash, reason),
    )


def _summary_values(summary: Any) -> dict[str, Any]:
    """Billing values from an ERP record's sales summary (keys in DUE_DATE_KEYS / AMOUNT_KEYS)."""
    out: dict[str, Any] = {}
    if not isinstance(summary, dict):
        return out
    for key in DUE_DATE_KEYS:
        if isinstance(summary.get(key), str) and (day := parse_day(summary[key])) is not None:
            out["due_date"] = day
            break
    for key in AMOUNT_KEYS:
        value = summary.get(key)
        if isinstance(value, int | float) and not isinstance(value, bool):
            value = f"{value:.2f}"
        if isinstance(value, str) and (amount := parse_amount(value)) is not None:
            out["amount"] = amount
            break
    return out


def _values(name: Any, summary: Any = None, stored: Any = None) -> RecipientValues:
    base: dict[str, Any] = {"name": str(name)[:120] if name else None, **_summary_values(summary)}
    if isinstance(stored, dict):  # a CSV row's own values win
        base.update({k: v for k, v in stored.items() if v is not None})
        if not base.get("name") and name:
            base["name"] = str(name)[:120]
    try:
        return RecipientValues.model_validate(base)
    except ValueError:
        return RecipientValues(name=base.get("name"))


_CONTACTS_SQL = """
select k.id::text as contact_id, k.phone_e164, k.display_name, l.id::text as lead_id,
  cu.id::text as customer_id, cu.name as customer_name, cu.sales_summary
from public.contacts k
left join public.leads l on l.tenant_id = k.tenant_id and l.contact_id = k.id
left join lateral (
  select cu.id, cu.name, cu.sales_summary from public.customers cu
  where cu.tenant_id = k.tenant_id
    and (cu.id = l.customer_id or (k.phone_e164 is not null and cu.phone_e164 = k.phone_e164))
  order by (cu.id = l.customer_id) desc nulls last limit 1
) cu on true
where k.tenant_id = %(tenant)s
  and (%(stages)s::text[] is null or l.status = any(%(stages)s))
  and (%(sources)s::text[] is null or l.source = any(%(sources)s))
  and (%(score_min)s::int is null or l.score >= %(score_min)s)
  and (%(score_max)s::int is null or l.score <= %(score_max)s)
  and (not %(customers_only)s or cu.id is not null)
  and (%(tags)s::text[] is null or exists (
    select 1 from public.contact_tags t
    where t.tenant_id = k.tenant_id and t.contact_id = k.id and t.tag = any(%(tags)s)))
  and (%(after)s::timestamptz is null or (select max(v.last_message_at) from public.conversations v
       where v.tenant_id = k.tenant_id and v.contact_id = k.id) >= %(after)s)
  and (%(before)s::timestamptz is null or coalesce((select max(v.last_message_at) from public.conversations v
       where v.tenant_id = k.tenant_id and v.contact_id = k.id), '-infinity') < %(before)s)
order by k.created_at, k.id
"""

_CUSTOMERS_SQL = """
select cu.id::text as customer_id, cu.phone_e164, cu.phone_raw, cu.name as customer_name, cu.sales_summary,
  k.id::text as contact_id
from public.customers cu
left join lateral (
  select k.id from public.contacts k where k.tenant_id = cu.tenant_id and k.phone_e164 = cu.phone_e164 limit 1
) k on true
where cu.tenant_id = %s
order by cu.external_id, cu.id
"""

_CSV_SQL = """
select r.row_number, r.phone_e164, r.vars, k.id::text as contact_id, k.display_name
from public.campaign_csv_rows r
left join lateral (
  select k.id, k.display_name from public.contacts k where k.tenant_id = r.tenant_id and k.phone_e164 = r.phone_e164
  order by k.created_at limit 1
) k on true
where r.campaign_id = %s
order by r.row_number
"""


class PgCampaignStore(CampaignStore):
    def __init__(self, db: Database) -> None:
        self._db = db

    # --- reads ----------------------------------------------------------------------------------

    def instance(self, claims: Claims, instance_id: str) -> InstanceRef | None:
        with self._db.as_user(claims) as conn:
            row = conn.execute(
                "select id::text, tenant_id::text, provider, status from public.whatsapp_instances where id = %s",
                (instance_id,),
            ).fetchone()
        return InstanceRef.model_validate(row) if row else None

    def role(self, claims: Claims, tenant_id: str) -> str | None:
        with self._db.as_user(claims) as conn:
            row = conn.execute(
                "select role from public.memberships where tenant_id = %s and user_id = (select auth.uid())",
                (tenant_id,),
            ).fetchone()
        return row["role"] if row else None

    def admin_tenants(self, claims: Claims) -> list[str]:
        with self._db.as_user(claims) as conn:
            rows = conn.execute(
                "select tenant_id::text from public.memberships where user_id = (select auth.uid())"
                " and role in ('owner', 'admin') order by tenant_id"
            ).fetchall()
        return [r["tenant_id"] for r in rows]

    def get(self, claims: Claims, campaign_id: str) -> CampaignRecord | None:
        with self._db.as_user(claims) as conn:
            row = conn.execute(f"select {_COLUMNS} from public.campaigns c where c.id = %s", (campaign_id,)).fetchone()
        return record_of(row) if row else None

    def page(
        self, claims: Claims, *, tenant_id: str | None, before: tuple[datetime, str] | None, limit: int
    ) -> list[CampaignRecord]:
        at, key = before if before else (None, None)
        with self._db.as_user(claims) as conn:
            rows = conn.execute(
                f"select {_COLUMNS} from public.campaigns c"
                " where (%s::uuid is null or c.tenant_id = %s::uuid)"
                " and (%s::timestamptz is null or (c.created_at, c.id) < (%s::timestamptz, %s::uuid))"
                " order by c.created_at desc, c.id desc limit %s",
                (tenant_id, tenant_id, at, at, key, limit),
            ).fetchall()
        return [record_of(r) for r in rows]

    def candidates(self, claims: Claims, campaign: CampaignRecord) -> Iterable[Candidate]:
        spec = campaign.audience
        with self._db.as_user(claims) as conn:
            if spec.kind == "csv":
                rows = conn.execute(_CSV_SQL, (campaign.id,)).fetchall()
                return [
                    Candidate(
                        contact_id=r["contact_id"],
                        row=r["row_number"],
                        phone_e164=r["phone_e164"],
                        values=_values(r["display_name"], stored=r["vars"]),
                    )
                    for r in rows
                ]
            segment = spec.segment
            assert segment is not None
            if segment.source == "customers":
                rows = conn.execute(_CUSTOMERS_SQL, (campaign.tenant_id,)).fetchall()
                return [
                    Candidate(
                        contact_id=r["contact_id"],
                        customer_id=r["customer_id"],
                        phone_e164=r["phone_e164"] or canonical_phone(r["phone_raw"] or ""),
                        values=_values(r["customer_name"], r["sales_summary"]),
                    )
                    for r in rows
                ]
            rows = conn.execute(
                _CONTACTS_SQL,
                {
                    "tenant": campaign.tenant_id,
                    "stages": list(segment.lead_stages) or None,
                    "sources": list(segment.lead_sources) or None,
                    "score_min": segment.score_min,
                    "score_max": segment.score_max,
                    "customers_only": segment.customers_only,
                    "tags": list(segment.tags_any) or None,
                    "after": segment.last_contact_after,
                    "before": segment.last_contact_before,
                },
            ).fetchall()
        return [
            Candidate(
                contact_id=r["contact_id"],
                customer_id=r["customer_id"],
                lead_id=r["lead_id"],
                phone_e164=r["phone_e164"],
                values=_values(r["customer_name"] or r["display_name"], r["sales_summary"]),
            )
            for r in rows
        ]

    def progress(self, claims: Claims, campaign_id: str) -> CampaignProgress:
        with self._db.as_user(claims) as conn:
            return progress_of(conn, campaign_id)

    def replies(
        self, claims: Claims, campaign_id: str, *, before: tuple[datetime, str] | None, limit: int
    ) -> list[CampaignReply]:
        at, key = before if before else (None, None)
        with self._db.as_user(claims) as conn:
            rows = conn.execute(
                "select r.id::text as recipient_id, r.contact_id::text, r.phone_e164, r.sent_at, r.replied_at,"
                " r.reply_message_id::text, m.conversation_id::text, m.body, r.reply_lead_id::text as lead_id,"
                " r.opted_out_at is not null as opted_out"
                " from public.campaign_recipients r left join public.messages m on m.id = r.reply_message_id"
                " where r.campaign_id = %s and r.replied_at is not null"
                " and (%s::timestamptz is null or (r.replied_at, r.id) < (%s::timestamptz, %s::uuid))"
                " order by r.replied_at desc, r.id desc limit %s",
                (campaign_id, at, at, key, limit),
            ).fetchall()
        return [CampaignReply.model_validate(r) for r in rows]

    def settings(self, claims: Claims, tenant_id: str) -> tuple[CampaignSettings, datetime | None]:
        with self._db.as_user(claims) as conn:
            row = conn.execute(
                "select settings, updated_at from public.campaign_settings where tenant_id = %s", (tenant_id,)
            ).fetchone()
        if row is None:
            return CampaignSettings(), None
        return settings_of(row["settings"]), row["updated_at"]

    # --- writes ---------------------------------------------------------------------------------

    def save_settings(self, claims: Claims, tenant_id: str, settings: CampaignSettings) -> datetime:
        with self._db.as_user(claims) as conn:
            row = conn.execute(
                "insert into public.campaign_settings (tenant_id, settings, updated_by, updated_at)"
                " values (%s, %s, (select auth.uid()), now())"
                " on conflict (tenant_id) do update set settings = excluded.settings,"
                " updated_by = excluded.updated_by, updated_at = excluded.updated_at returning updated_at",
                (tenant_id, Jsonb(settings.model_dump(mode="json"))),
            ).fetchone()
        assert row is not None
        updated: datetime = row["updated_at"]
        return updated

    def create(self, claims: Claims, draft: CampaignDraft) -> CampaignRecord:
        with self._db.as_user(claims) as conn:
            row = conn.execute(
                "insert into public.campaigns as c (tenant_id, instance_id, name, audience, message, content_hash,"
                " csv_report, created_by) values (%s, %s, %s, %s, %s, %s, %s, (select auth.uid()))"
                f" returning {_COLUMNS}",
                (
                    draft.tenant_id,
                    draft.instance_id,
                    draft.name,
                    Jsonb(draft.audience.model_dump(mode="json")),
                    Jsonb(draft.message.model_dump(mode="json")),
                    draft.content_hash,
                    Jsonb(draft.csv_report.model_dump(mode="json")) if draft.csv_report else None,
                ),
            ).fetchone()
            assert row is not None
            record = record_of(row)
            self._write_csv(conn, record, draft)
            audit(conn, record, "created")
        return record

    def replace(self, claims: Claims, campaign_id: str, draft: CampaignDraft) -> CampaignRecord | None:
        with self._db.as_user(claims) as conn:
            row = conn.execute(
                "update public.campaigns c set name = %s, instance_id = %s, audience = %s, message = %s,"
                " content_hash = %s, csv_report = %s, status = 'draft', approved_hash = null, approved_by = null,"
                " approved_at = null, updated_at = now()"
                f" where c.id = %s and c.status in ('draft', 'approved') returning {_COLUMNS}",
                (
                    draft.name,
                    draft.instance_id,
                    Jsonb(draft.audience.model_dump(mode="json")),
                    Jsonb(draft.message.model_dump(mode="json")),
                    draft.content_hash,
                    Jsonb(draft.csv_report.model_dump(mode="json")) if draft.csv_report else None,
                    campaign_id,
                ),
            ).fetchone()
            if row is None:
                return None
            record = record_of(row)
            conn.execute("delete from public.campaign_csv_rows where campaign_id = %s", (campaign_id,))
            self._write_csv(conn, record, draft)
            audit(conn, record, "edited")
        return record

    def _write_csv(self, conn: psycopg.Connection[Any], record: CampaignRecord, draft: CampaignDraft) -> None:
        if not draft.csv_rows:
            return
        conn.execute(
            "insert into public.campaign_csv_rows (campaign_id, tenant_id, row_number, phone_e164, vars)"
            " select %s, %s, n, p, v::jsonb from unnest(%s::int[], %s::text[], %s::text[]) as u(n, p, v)",
            (
                record.id,
                record.tenant_id,
                [r.row for r in draft.csv_rows],
                [r.phone_e164 for r in draft.csv_rows],
                [r.values.model_dump_json(exclude_none=True) for r in draft.csv_rows],
            ),
        )

    def previewed(self, claims: Claims, campaign_id: str, content_hash: str) -> None:
        with self._db.as_user(claims) as conn:
            row = conn.execute(
                "update public.campaigns c set preview_hash = %s, previewed_at = now()"
                f" where c.id = %s and c.content_hash = %s returning {_COLUMNS}",
                (content_hash, campaign_id, content_hash),
            ).fetchone()
            if row is not None:
                audit(conn, record_of(row), "previewed")

    def approve(self, claims: Claims, campaign_id: str, content_hash: str) -> CampaignRecord | None:
        with self._db.as_user(claims) as conn:
            row = conn.execute(
                "update public.campaigns c set status = 'approved', approved_hash = content_hash,"
                " approved_by = (select auth.uid()), approved_at = now(), updated_at = now()"
                " where c.id = %s and c.status = 'draft' and c.content_hash = %s and c.preview_hash = %s"
                f" returning {_COLUMNS}",
                (campaign_id, content_hash, content_hash),
            ).fetchone()
            if row is None:
                return None
            record = record_of(row)
            audit(conn, record, "approved")
        return record

    def start(
        self, claims: Claims, campaign_id: str, recipients: Sequence[FrozenRecipient], report: AudienceReport
    ) -> CampaignRecord | None:
        with self._db.as_user(claims) as conn:
            row = conn.execute(
                "update public.campaigns c set status = 'running', started_by = (select auth.uid()),"
                " started_at = now(), audience_report = %s, updated_at = now()"
                f" where c.id = %s and c.status = 'approved' and c.approved_hash = c.content_hash returning {_COLUMNS}",
                (Jsonb(report.model_dump(mode="json")), campaign_id),
            ).fetchone()
            if row is None:
                return None
            record = record_of(row)
            if recipients:
                conn.execute(
                    "insert into public.campaign_recipients (tenant_id, campaign_id, ordinal, contact_id, customer_id,"
                    " phone_e164, body, template_params)"
                    " select %s, %s, o, c, u, p, b, t::jsonb"
                    " from unnest(%s::int[], %s::uuid[], %s::uuid[], %s::text[], %s::text[], %s::text[])"
                    " as x(o, c, u, p, b, t)",
                    (
                        record.tenant_id,
                        record.id,
                        [r.ordinal for r in recipients],
                        [r.contact_id for r in recipients],
                        [r.customer_id for r in recipients],
                        [r.phone_e164 for r in recipients],
                        [r.body for r in recipients],
                        [json.dumps(list(r.template_params)) if r.template_params is not None else None
                         for r in recipients],
                    ),
                )  # fmt: skip
            progress = progress_of(conn, record.id)
            row = conn.execute(
                f"update public.campaigns c set progress = %s where c.id = %s returning {_COLUMNS}",
                (Jsonb(progress.model_dump()), record.id),
            ).fetchone()
            assert row is not None
            record = record_of(row)
            audit(conn, record, "started")
        return record

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
        extra = {
            CampaignStatus.PAUSED: ", paused_at = now(), pause_code = 'manual', pause_reason = %(reason)s",
            CampaignStatus.RUNNING: ", pause_code = null, pause_reason = null",
            CampaignStatus.CANCELLED: ", cancelled_at = now()",
        }.get(to, "")
        with self._db.as_user(claims) as conn:
            row = conn.execute(
                f"update public.campaigns c set status = %(to)s, updated_at = now(){extra}"
                f" where c.id = %(id)s and c.status = any(%(expected)s) returning {_COLUMNS}",
                {"to": to.value, "id": campaign_id, "expected": [s.value for s in expected], "reason": reason},
            ).fetchone()
            if row is None:
                return None
            record = record_of(row)
            if to is CampaignStatus.CANCELLED:
                conn.execute(
                    "update public.campaign_recipients set status = 'cancelled', updated_at = now()"
                    " where campaign_id = %s and status in ('queued', 'released')",
                    (campaign_id,),
                )
            if to is CampaignStatus.PAUSED:
                # what was planned goes back: the next start re-plans from the pacing state
                conn.execute(
                    "update public.campaign_recipients set status = 'queued', slot_at = null, released_at = null,"
                    " updated_at = now() where campaign_id = %s and status = 'released'",
                    (campaign_id,),
                )
            progress = progress_of(conn, campaign_id)
            row = conn.execute(
                f"update public.campaigns c set progress = %s where c.id = %s returning {_COLUMNS}",
                (Jsonb(progress.model_dump()), campaign_id),
            ).fetchone()
            assert row is not None
            record = record_of(row)
            audit(conn, record, action, reason)
        return record


def settings_of(value: Any) -> CampaignSettings:
    """Stored settings; a document an older version wrote that no longer validates falls back
    field by field (the defaults for what is invalid)."""
    try:
        return CampaignSettings.model_validate(value or {})
    except ValueError:
        fields = CampaignSettings.model_fields
        valid: dict[str, Any] = {}
        for key, raw in (value or {}).items():
            if key in fields:
                try:
                    CampaignSettings.model_validate({key: raw})
                except ValueError:
                    continue
                valid[key] = raw
        return CampaignSettings.model_validate(valid)
