"""The campaign function's storage, as the service for one tenant (``Database.as_service``).

Two locks keep sends apart: a recipient row (``for update``) while a job decides what to do with
it, so a duplicate job finds it claimed or done; and the instance's pacing row while slots are
planned and while the last send time is checked and moved, so two workers never send from one
number closer than the throttle allows. Neither is held during the gateway call.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from typing import Any

import psycopg
from psycopg.types.json import Jsonb

from ponte.adapters.postgres.campaigns import progress_of, settings_of
from ponte.adapters.postgres.db import Database
from ponte.adapters.postgres.sending import phone_aliases
from ponte.domain.campaigns.api import CampaignProgress
from ponte.domain.campaigns.auto_pause import PauseReason, SendOutcome
from ponte.domain.campaigns.settings import CampaignSettings
from ponte.domain.campaigns.throttle import PacingState
from ponte.ports.campaigns import (
    ActiveCampaign,
    CampaignSendStore,
    ClaimDecision,
    InboundMessage,
    Planner,
    Released,
    ReplyStore,
    SendSnapshot,
)

logger = logging.getLogger(__name__)

OPEN = ("queued", "released", "sending")
# how many queued recipients a plan looks at (it needs "enough", not the exact count)
QUEUED_LOOKAHEAD = 10_000


def _service_audit(conn: psycopg.Connection[Any], tenant_id: str, campaign_id: str, action: str, reason: str) -> None:
    conn.execute(
        "insert into public.campaign_audit (tenant_id, campaign_id, action, content_hash, reason)"
        " select tenant_id, id, %s, content_hash, %s from public.campaigns where id = %s and tenant_id = %s",
        (action, reason, campaign_id, tenant_id),
    )


def _wait(last: datetime | None, now: datetime, min_gap_seconds: float) -> float:
    if last is None:
        return 0.0
    return max(0.0, (last + timedelta(seconds=min_gap_seconds) - now).total_seconds())


class PgCampaignSendStore(CampaignSendStore):
    def __init__(self, db: Database) -> None:
        self._db = db

    def active(self, *, since: datetime) -> list[ActiveCampaign]:
        with self._db.as_service(None) as conn:
            rows = conn.execute(
                "select c.id::text, c.tenant_id::text, c.instance_id::text, i.provider,"
                " i.status as instance_status, c.status, c.completed_at"
                " from public.campaigns c join public.whatsapp_instances i on i.id = c.instance_id"
                " where c.status in ('running', 'paused')"
                " or (c.status in ('completed', 'cancelled') and coalesce(c.completed_at, c.cancelled_at) > %s)"
                " order by c.started_at nulls last, c.id",
                (since,),
            ).fetchall()
        return [ActiveCampaign.model_validate(r) for r in rows]

    def settings(self, tenant_id: str) -> CampaignSettings:
        with self._db.as_service(tenant_id) as conn:
            row = conn.execute(
                "select settings from public.campaign_settings where tenant_id = %s", (tenant_id,)
            ).fetchone()
        return settings_of(row["settings"]) if row else CampaignSettings()

    def _pacing(self, conn: psycopg.Connection[Any], instance_id: str, tenant_id: str) -> dict[str, Any]:
        conn.execute(
            "insert into public.campaign_pacing (instance_id, tenant_id) values (%s, %s) on conflict do nothing",
            (instance_id, tenant_id),
        )
        row: dict[str, Any] | None = conn.execute(
            "select next_at, in_burst, day, day_count, last_sent_at, next_gap_seconds, sent_in_burst"
            " from public.campaign_pacing"
            " where instance_id = %s for update",
            (instance_id,),
        ).fetchone()
        assert row is not None
        return row

    def release(self, campaign: ActiveCampaign, planner: Planner, now: datetime) -> list[Released]:
        with self._db.as_service(campaign.tenant_id) as conn:
            pacing = self._pacing(conn, campaign.instance_id, campaign.tenant_id)
            counts = conn.execute(
                "select (select count(*) from (select 1 from public.campaign_recipients"
                "   where campaign_id = %s and status = 'queued' limit %s) q) as queued,"
                " (select count(*) from public.campaign_recipients"
                "   where campaign_id = %s and status in ('released', 'sending')) as in_flight",
                (campaign.id, QUEUED_LOOKAHEAD, campaign.id),
            ).fetchone()
            assert counts is not None
            state = PacingState(
                next_at=pacing["next_at"], in_burst=pacing["in_burst"], day=pacing["day"],
                day_count=pacing["day_count"],
            )  # fmt: skip
            plan = planner(state, counts["queued"], counts["in_flight"])
            if not plan.slots:
                return []
            rows = conn.execute(
                "select id::text from public.campaign_recipients where campaign_id = %s and status = 'queued'"
                " order by ordinal limit %s for update skip locked",
                (campaign.id, len(plan.slots)),
            ).fetchall()
            ids = [r["id"] for r in rows]
            slots = list(plan.slots[: len(ids)])
            conn.execute(
                "update public.campaign_recipients r set status = 'released', slot_at = x.s, released_at = %s,"
                " updated_at = now() from unnest(%s::uuid[], %s::timestamptz[]) as x(i, s) where r.id = x.i",
                (now, ids, slots),
            )
            state = plan.state
            conn.execute(
                "update public.campaign_pacing set next_at = %s, in_burst = %s, day = %s, day_count = %s,"
                " updated_at = now() where instance_id = %s",
                (state.next_at, state.in_burst, state.day, state.day_count, campaign.instance_id),
            )
        return [
            Released(recipient_id=i, campaign_id=campaign.id, tenant_id=campaign.tenant_id, slot_at=s)
            for i, s in zip(ids, slots, strict=True)
        ]

    def stale(
        self, campaign_id: str, tenant_id: str, *, released_before: datetime, claimed_before: datetime
    ) -> list[Released]:
        with self._db.as_service(tenant_id) as conn:
            rows = conn.execute(
                "update public.campaign_recipients set released_at = %s, updated_at = now()"
                " where campaign_id = %s and ((status = 'released' and released_at < %s)"
                " or (status = 'sending' and claimed_at < %s)) returning id::text, slot_at",
                (max(released_before, claimed_before), campaign_id, released_before, claimed_before),
            ).fetchall()
        return [
            Released(recipient_id=r["id"], campaign_id=campaign_id, tenant_id=tenant_id, slot_at=None) for r in rows
        ]

    def claim(
        self,
        recipient_id: str,
        tenant_id: str,
        phone_hash_of: Callable[[str], str],
        decide: Callable[[SendSnapshot], ClaimDecision],
        now: datetime,
    ) -> tuple[SendSnapshot | None, ClaimDecision]:
        with self._db.as_service(tenant_id) as conn:
            row = conn.execute(
                "select r.id::text as recipient_id, r.campaign_id::text, r.tenant_id::text, c.instance_id::text,"
                " i.provider, c.status as campaign_status, r.status, r.phone_e164, r.body, r.template_params,"
                " c.message #>> '{cloud_template,name}' as template_name,"
                " c.message #>> '{cloud_template,language}' as template_language,"
                " r.slot_at, r.claimed_at, r.attempts, r.body_source,"
                " coalesce(c.message ->> 'personalize', 'none') as personalize"
                " from public.campaign_recipients r"
                " join public.campaigns c on c.id = r.campaign_id"
                " join public.whatsapp_instances i on i.id = c.instance_id"
                " where r.id = %s and r.tenant_id = %s for update of r",
                (recipient_id, tenant_id),
            ).fetchone()
            if row is None:
                return None, ClaimDecision(action="ignore", reason="gone")
            flags = conn.execute(
                "select exists (select 1 from public.opt_outs o where o.tenant_id = %s and o.channel = 'whatsapp'"
                "   and o.phone_hash = %s and o.opted_in_at is null) as opted_out,"
                " exists (select 1 from public.tenants t,"
                "   jsonb_array_elements_text(coalesce(t.settings -> 'hidden_contacts', '[]'::jsonb)) h"
                "   where t.id = %s and h = any(%s)) as hidden",
                (tenant_id, phone_hash_of(row["phone_e164"]), tenant_id, phone_aliases(row["phone_e164"])),
            ).fetchone()
            assert flags is not None
            params = row["template_params"]
            snapshot = SendSnapshot.model_validate(
                {**row, **flags, "template_params": tuple(params) if isinstance(params, list) else None}
            )
            decision = decide(snapshot)
            self._apply(conn, snapshot, decision, now)
        return snapshot, decision

    def _apply(
        self, conn: psycopg.Connection[Any], snapshot: SendSnapshot, decision: ClaimDecision, now: datetime
    ) -> None:
        rid = snapshot.recipient_id
        if decision.action == "send":
            conn.execute(
                "update public.campaign_recipients set status = 'sending', claimed_at = %s,"
                " attempts = attempts + 1, updated_at = now() where id = %s",
                (now, rid),
            )
        elif decision.action == "hold":
            conn.execute(
                "update public.campaign_recipients set status = 'queued', slot_at = null, released_at = null,"
                " updated_at = now() where id = %s and status in ('queued', 'released')",
                (rid,),
            )
        elif decision.action == "cancel":
            conn.execute(
                "update public.campaign_recipients set status = 'cancelled', updated_at = now()"
                " where id = %s and status in ('queued', 'released')",
                (rid,),
            )
        elif decision.action == "skip":
            conn.execute(
                "update public.campaign_recipients set status = 'skipped', skip_reason = %s,"
                " opted_out_at = case when %s = 'opted_out' then coalesce(opted_out_at, %s) else opted_out_at end,"
                " updated_at = now() where id = %s",
                (decision.reason, decision.reason, now, rid),
            )

    def gate(
        self,
        instance_id: str,
        tenant_id: str,
        now: Callable[[], datetime],
        draw: Callable[[int], tuple[float, int]] | None,
    ) -> float:
        with self._db.as_service(tenant_id) as conn:
            if draw is None:
                row = conn.execute(
                    "select last_sent_at, next_gap_seconds from public.campaign_pacing where instance_id = %s",
                    (instance_id,),
                ).fetchone()
                if row is None:
                    return 0.0
                return _wait(row["last_sent_at"], now(), row["next_gap_seconds"])
            pacing = self._pacing(conn, instance_id, tenant_id)
            at = now()
            wait = _wait(pacing["last_sent_at"], at, pacing["next_gap_seconds"])
            if wait > 0:
                return wait
            gap, burst = draw(pacing["sent_in_burst"])
            conn.execute(
                "update public.campaign_pacing set last_sent_at = %s, next_gap_seconds = %s, sent_in_burst = %s,"
                " updated_at = now() where instance_id = %s",
                (at, gap, burst, instance_id),
            )
        return 0.0

    def last_to_recipient(self, instance_id: str, tenant_id: str, phone_e164: str) -> datetime | None:
        with self._db.as_service(tenant_id) as conn:
            row = conn.execute(
                "select max(o.updated_at) as at from public.outbound_messages o"
                " where o.tenant_id = %s and o.instance_id = %s and o.recipient = %s and o.status = 'sent'",
                (tenant_id, instance_id, phone_e164.lstrip("+")),
            ).fetchone()
        return row["at"] if row else None

    def rewrite_body(self, recipient_id: str, tenant_id: str, body: str) -> bool:
        with self._db.as_service(tenant_id) as conn:
            row = conn.execute(
                "update public.campaign_recipients r set body = %s, body_source = 'llm', updated_at = now()"
                " where r.id = %s and r.status = 'sending' and r.body_source = 'template'"
                " and not exists (select 1 from public.outbound_messages o where o.tenant_id = r.tenant_id"
                "   and o.idempotency_key = 'campaign:' || r.campaign_id || ':' || r.id) returning r.id",
                (body, recipient_id),
            ).fetchone()
        return row is not None

    def requeue(self, recipient_id: str, tenant_id: str, slot_at: datetime) -> None:
        with self._db.as_service(tenant_id) as conn:
            conn.execute(
                "update public.campaign_recipients set status = 'released', slot_at = %s, released_at = %s,"
                " attempts = greatest(attempts - 1, 0), updated_at = now() where id = %s and status = 'sending'",
                (slot_at, slot_at, recipient_id),
            )

    def sent(self, recipient_id: str, tenant_id: str, *, outbox_id: str, message_id: str | None, at: datetime) -> None:
        with self._db.as_service(tenant_id) as conn:
            conn.execute(
                "update public.campaign_recipients set status = 'sent', sent_at = coalesce(sent_at, %s),"
                " outbox_id = %s, message_id = coalesce(%s, message_id), error_code = null, updated_at = now()"
                " where id = %s",
                (at, outbox_id, message_id, recipient_id),
            )

    def failed(self, recipient_id: str, tenant_id: str, *, error_code: str, final: bool) -> None:
        with self._db.as_service(tenant_id) as conn:
            conn.execute(
                "update public.campaign_recipients set error_code = %s,"
                " status = case when %s then 'failed' else status end, updated_at = now()"
                " where id = %s and status = 'sending'",
                (error_code, final, recipient_id),
            )

    def recent_outcomes(self, campaign_id: str, tenant_id: str, limit: int) -> list[SendOutcome]:
        with self._db.as_service(tenant_id) as conn:
            rows = conn.execute(
                "select error_code from public.campaign_recipients where campaign_id = %s"
                " and (status in ('sent', 'failed') or (status = 'sending' and error_code is not null))"
                " order by updated_at desc, id limit %s",  # the outcome is a recipient's latest write
                (campaign_id, limit),
            ).fetchall()
        return [SendOutcome(error_code=r["error_code"]) for r in reversed(rows)]

    def auto_pause(self, campaign_id: str, tenant_id: str, reason: PauseReason) -> bool:
        with self._db.as_service(tenant_id) as conn:
            row = conn.execute(
                "update public.campaigns set status = 'paused', paused_at = now(), pause_code = %s,"
                " pause_reason = %s, updated_at = now() where id = %s and status = 'running' returning id",
                (reason.code, reason.detail, campaign_id),
            ).fetchone()
            if row is None:
                return False
            _service_audit(conn, tenant_id, campaign_id, "auto_paused", f"{reason.code}: {reason.detail}")
        return True

    def complete_if_done(self, campaign_id: str, tenant_id: str) -> bool:
        with self._db.as_service(tenant_id) as conn:
            row = conn.execute(
                "update public.campaigns c set status = 'completed', completed_at = now(), updated_at = now()"
                " where c.id = %s and c.status = 'running' and not exists (select 1 from public.campaign_recipients r"
                " where r.campaign_id = c.id and r.status in ('queued', 'released', 'sending')) returning id",
                (campaign_id,),
            ).fetchone()
            if row is None:
                return False
            _service_audit(conn, tenant_id, campaign_id, "completed", "every recipient was handled")
        return True

    def refresh_progress(self, campaign_id: str, tenant_id: str) -> CampaignProgress:
        with self._db.as_service(tenant_id) as conn:
            progress = progress_of(conn, campaign_id)
            value = Jsonb(progress.model_dump())
            conn.execute(
                "update public.campaigns set progress = %s, updated_at = now() where id = %s and progress <> %s",
                (value, campaign_id, value),
            )
        return progress

    def delivery_errors(self, campaign_id: str, tenant_id: str) -> list[tuple[str, str]]:
        with self._db.as_service(tenant_id) as conn:
            rows = conn.execute(
                "update public.campaign_recipients r set error_code = m.status_error, updated_at = now()"
                " from public.messages m where m.id = r.message_id and r.campaign_id = %s and r.status = 'sent'"
                " and r.error_code is null and m.status = 'error' and m.status_error is not null"
                " returning r.phone_e164, r.error_code",
                (campaign_id,),
            ).fetchall()
        return [(r["phone_e164"], r["error_code"]) for r in rows]

    def tier_used(self, tenant_id: str, since: datetime) -> int:
        with self._db.as_service(tenant_id) as conn:
            row = conn.execute(
                "select count(distinct r.phone_e164) as n from public.campaign_recipients r"
                " join public.campaigns c on c.id = r.campaign_id"
                " join public.whatsapp_instances i on i.id = c.instance_id"
                " where r.tenant_id = %s and i.provider = 'cloud' and r.status in ('sent', 'sending')"
                " and coalesce(r.sent_at, r.claimed_at) >= %s",
                (tenant_id, since),
            ).fetchone()
        return int(row["n"]) if row else 0


class PgReplyStore(ReplyStore):
    def __init__(self, db: Database) -> None:
        self._db = db

    def inbound(self, tenant_id: str, message_ids: Sequence[str]) -> list[InboundMessage]:
        with self._db.as_service(tenant_id) as conn:
            rows = conn.execute(
                "select m.id::text, m.tenant_id::text, m.instance_id::text, m.conversation_id::text,"
                " m.contact_id::text, k.phone_e164, m.kind, m.body, m.occurred_at,"
                " (select l.id::text from public.leads l where l.tenant_id = m.tenant_id and l.first_message_id = m.id"
                "  limit 1) as created_lead_id,"
                " k.phone_e164 is not null and exists (select 1 from public.campaign_recipients x"
                "   where x.tenant_id = m.tenant_id and x.phone_e164 = k.phone_e164 and x.status = 'sent'"
                "   and x.sent_at <= m.occurred_at and x.replied_at is null) as awaits_reply"
                " from public.messages m join public.contacts k on k.id = m.contact_id"
                " where m.tenant_id = %s and m.id = any(%s::uuid[]) and m.direction = 'in'"
                " order by m.occurred_at",
                (tenant_id, list(message_ids)),
            ).fetchall()
        return [InboundMessage.model_validate(r) for r in rows]

    def attribute(self, message: InboundMessage, window_hours: int) -> list[str]:
        if message.phone_e164 is None:
            return []
        with self._db.as_service(message.tenant_id) as conn:
            rows = conn.execute(
                "update public.campaign_recipients r set replied_at = %(at)s, reply_message_id = %(mid)s,"
                " reply_lead_id = %(lead)s, contact_id = coalesce(r.contact_id, %(contact)s), updated_at = now()"
                " where r.id = (select x.id from public.campaign_recipients x"
                "   where x.tenant_id = %(tenant)s and x.phone_e164 = %(phone)s and x.status = 'sent'"
                "   and x.sent_at <= %(at)s and x.sent_at > %(at)s - make_interval(hours => %(hours)s)"
                "   order by x.sent_at desc limit 1)"
                " and r.replied_at is null returning r.campaign_id::text",
                {
                    "at": message.occurred_at,
                    "mid": message.id,
                    "lead": message.created_lead_id,
                    "contact": message.contact_id,
                    "tenant": message.tenant_id,
                    "phone": message.phone_e164,
                    "hours": window_hours,
                },
            ).fetchall()
        return [r["campaign_id"] for r in rows]

    def mark_opted_out(self, tenant_id: str, phone_e164: str, at: datetime) -> list[str]:
        with self._db.as_service(tenant_id) as conn:
            skipped = conn.execute(
                "update public.campaign_recipients set status = 'skipped', skip_reason = 'opted_out',"
                " opted_out_at = %s, updated_at = now()"
                " where tenant_id = %s and phone_e164 = %s and status in ('queued', 'released')"
                " returning campaign_id::text",
                (at, tenant_id, phone_e164),
            ).fetchall()
            latest = conn.execute(
                "update public.campaign_recipients r set opted_out_at = %s, updated_at = now()"
                " where r.id = (select x.id from public.campaign_recipients x where x.tenant_id = %s"
                "   and x.phone_e164 = %s and x.status = 'sent' order by x.sent_at desc limit 1)"
                " and r.opted_out_at is null returning r.campaign_id::text",
                (at, tenant_id, phone_e164),
            ).fetchall()
        return sorted({r["campaign_id"] for r in [*skipped, *latest]})

    def contacted_since(self, tenant_id: str, phone_e164: str, since: datetime) -> bool:
        with self._db.as_service(tenant_id) as conn:
            row = conn.execute(
                "select exists (select 1 from public.campaign_recipients where tenant_id = %s and phone_e164 = %s"
                " and status = 'sent' and sent_at >= %s) as found",
                (tenant_id, phone_e164, since),
            ).fetchone()
        return bool(row and row["found"])
