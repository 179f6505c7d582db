"""What a contact's message means for campaigns (the ``inbound`` job of the campaign queue, sent
by the ingest's after-commit hook for every newly stored inbound message):

- a **reply** within the tenant's window after a campaign message is attributed to that campaign
  (with the lead it created, if it created one);
- an **opt-out** ("SAIR", "PARAR", "não quero mais receber"...) puts the number on the suppression
  list at once, with a consent record: its recipients still waiting in any campaign are skipped,
  and a confirmation goes back (to a number a campaign reached lately, or for a clear request);
- from a number that opted out, an **opt-in** word ("ASSINAR") takes it off the list.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import timedelta

from ponte.domain.campaign_job import CampaignJob
from ponte.domain.campaigns.opt_out import detect_opt_in, detect_opt_out
from ponte.domain.campaigns.settings import CampaignSettings
from ponte.ports.campaigns import CampaignSendStore, InboundMessage, OptOutStore, ReplyStore
from ponte.services.exceptions import ServiceError
from ponte.services.sending import SendService

logger = logging.getLogger(__name__)


class CampaignReplies:
    def __init__(
        self,
        replies: ReplyStore,
        opt_outs: OptOutStore,
        sends: CampaignSendStore,
        sending: SendService,
        hasher: Callable[[str], str],
    ) -> None:
        self._replies = replies
        self._opt_outs = opt_outs
        self._sends = sends
        self._sending = sending
        self._hasher = hasher

    def handle(self, job: CampaignJob) -> dict[str, int]:
        messages = self._replies.inbound(job.tenant_id, job.message_ids)
        counts = {"replies": 0, "opted_out": 0, "opted_in": 0}
        if not messages:
            return counts
        settings = self._sends.settings(job.tenant_id)
        touched: set[str] = set()
        for message in messages:
            if message.phone_e164 is None:
                continue
            campaigns = self._replies.attribute(message, settings.reply_window_hours) if message.awaits_reply else []
            counts["replies"] += len(campaigns)
            touched.update(campaigns)
            if message.kind != "text" or not message.body:
                continue
            outcome = self._consent(message, campaigns, settings)
            if outcome:
                counts[outcome] += 1
                if outcome == "opted_out":
                    touched.update(self._replies.mark_opted_out(job.tenant_id, message.phone_e164, message.occurred_at))
        for campaign_id in sorted(touched):
            self._sends.refresh_progress(campaign_id, job.tenant_id)
        return counts

    def _consent(self, message: InboundMessage, campaigns: list[str], settings: CampaignSettings) -> str | None:
        """An opt-out from a number on no list, an opt-in from one on it. Most messages are neither:
        their words are read first, and the list only for the few that could be."""
        assert message.phone_e164 is not None and message.body is not None
        match = detect_opt_out(message.body, settings.keywords())
        opting_in = detect_opt_in(message.body, settings.opt_in_keywords())
        if match is None and not opting_in:
            return None
        phone_hash = self._hasher(message.phone_e164)
        opted = bool(self._opt_outs.opted_out(message.tenant_id, [phone_hash]))
        if not opted:
            if match is None:
                return None
            campaign_id = campaigns[0] if campaigns else None
            if not self._opt_outs.opt_out(message.tenant_id, phone_hash, source=match.kind, campaign_id=campaign_id):
                return None
            since = message.occurred_at - timedelta(hours=settings.reply_window_hours)
            reached = self._replies.contacted_since(message.tenant_id, message.phone_e164, since)
            if match.kind == "clear_request" or reached:
                self._confirm(message, settings.opt_out_confirmation, "optout")
            return "opted_out"
        if opting_in and self._opt_outs.opt_in(message.tenant_id, phone_hash, source="reply"):
            self._confirm(message, settings.opt_in_confirmation, "optin")
            return "opted_in"
        return None

    def _confirm(self, message: InboundMessage, text: str, kind: str) -> None:
        """The confirmation is a reply to the contact's own message: it goes now, quiet hours or not."""
        assert message.phone_e164 is not None
        try:
            self._sending.send_campaign(
                message.tenant_id,
                instance_id=message.instance_id,
                phone_e164=message.phone_e164,
                text=text,
                idempotency_key=f"campaign-{kind}:{message.id}",
            )
        except ServiceError as exc:  # the opt-out itself is recorded; only the courtesy message failed
            logger.warning("opt-out confirmation not sent", extra={"code": exc.code, "kind": kind})
