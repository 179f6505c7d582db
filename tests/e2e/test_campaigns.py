"""Campaigns end to end on the local stack with the fake gateway (its receive times are the proof):
500 recipients previewed, approved and sent within the throttle, paused and resumed, the campaign
pollers killed mid-campaign and restarted, an opt-out reply, hidden and opted-out contacts never
messaged; and quiet hours holding a campaign until morning on the stack's controllable clock.

The throttle runs at ``SCALE`` of its real durations (8-20 s gaps become 12-30 ms) so that this
takes seconds; every assertion on spacing is in scaled seconds."""

from __future__ import annotations

import itertools
import statistics
import time
import uuid
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import psycopg
import pytest

from ponte.domain.campaigns.throttle import UNOFFICIAL_POLICY
from ponte.domain.realtime import CampaignPayload
from ponte.localstack.fake_gateway import FakeSession
from ponte.localstack.jwt_tokens import mint_token
from ponte.localstack.stack import LocalStack
from ponte.services.intake import SECRET_HEADER

SCALE = 0.0015
WINDOW = 20  # consecutive sends
JITTER = 0.05  # seconds the fake gateway's thread may be late to stamp a request
RECIPIENTS = 500
INSTRUCTION = "Para não receber mais mensagens como esta, responda SAIR."
NEVER_QUIET = {"timezone": "America/Sao_Paulo", "start": "09:00:00", "end": "09:00:00", "days_off": []}
FAST = {"campaign_time_scale": SCALE, "campaign_tick_seconds": 0.25}


def number(i: int) -> str:
    return f"+55119{70000000 + i:08d}"


class Api:
    def __init__(self, stack: LocalStack) -> None:
        assert stack.demo is not None
        self.stack = stack
        self.tenant = stack.demo.tenant_id
        self.token = mint_token(stack.secrets.jwt_secret, sub=stack.demo.user_id)
        self.http = httpx.Client(
            base_url=stack.proxy_url, headers={"Authorization": f"Bearer {self.token}"}, timeout=30
        )

    def __call__(self, method: str, path: str, body: Any = None, status: int = 200) -> Any:
        response = self.http.request(method, path, json=body)
        assert response.status_code == status, response.text
        return response.json()

    def sql(self, query: str, *args: Any) -> list[dict[str, Any]]:
        with psycopg.connect(self.stack.dsn, autocommit=True) as conn:
            cursor = conn.execute(query, args)
            if not cursor.description:
                return []
            names = [d.name for d in cursor.description]
            return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]

    def session(self) -> FakeSession:
        assert self.stack.gateway is not None
        return self.stack.gateway.fake.sessions[("evolution", "demo")]

    def campaign_receipts(self) -> list[Any]:
        return [r for r in list(self.session().receipts) if r.text.endswith(INSTRUCTION)]

    def inbound(self, phone: str, text: str) -> None:
        payload = {
            "event": "messages.upsert",
            "instance": "demo",
            "data": {
                "key": {"remoteJid": f"{phone[1:]}@s.whatsapp.net", "fromMe": False, "id": uuid.uuid4().hex.upper()},
                "pushName": "Cliente",
                "message": {"conversation": text},
                "messageType": "conversation",
                "messageTimestamp": int(time.time()),
            },
        }
        headers = {SECRET_HEADER: self.stack.secrets.demo_webhook_secret}
        assert httpx.post(self.stack.webhook_url(), json=payload, headers=headers, timeout=10).status_code == 200

    def seed(self, count: int, tag: str) -> None:
        """``count`` contacts with open leads and ``tag``, numbers ``number(0..count-1)``."""
        with psycopg.connect(self.stack.dsn) as conn:
            conn.execute(
                "with c as (insert into public.contacts (tenant_id, identity_key, phone_e164, display_name)"
                " select %s, p, p, 'Cliente ' || n from unnest(%s::text[], %s::int[]) as x(p, n) returning id)"
                " , t as (insert into public.contact_tags (tenant_id, contact_id, tag) select %s, id, %s from c)"
                " insert into public.leads (tenant_id, contact_id, status) select %s, id, 'open' from c",
                (self.tenant, [number(i) for i in range(count)], list(range(count)), self.tenant, tag, self.tenant),
            )

    def start(self, segment: dict[str, Any], variants: list[str]) -> tuple[str, dict[str, Any]]:
        body = {
            "name": "Natal",
            "instance_id": self.stack.demo.instance_id,  # type: ignore[union-attr]
            "audience": {"kind": "segment", "segment": segment},
            "message": {"variants": variants},
        }
        campaign = self("POST", "/campaigns", body, status=201)
        preview = self("POST", f"/campaigns/{campaign['id']}/preview", {"sample_size": 3})
        self("POST", f"/campaigns/{campaign['id']}/approve", {"content_hash": preview["content_hash"]})
        running = self("POST", f"/campaigns/{campaign['id']}/start")
        assert running["status"] == "running"
        return campaign["id"], preview


def wait(check: Callable[[], Any], timeout: float, what: str) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


@pytest.mark.parametrize("stack_overrides", [FAST])
def test_a_campaign_of_500_within_the_throttle_paused_killed_and_opted_out(stack: LocalStack) -> None:
    api = Api(stack)
    # the gateway's delivery and read acks are left out here (the quiet-hours test has them): four
    # webhooks a send would make this test measure the ingest instead of the campaign
    assert stack.gateway is not None
    stack.gateway.fake.acks = False
    # a number warmed up for a 500-message day, and no quiet hours in this test (see the next one)
    api("PUT", "/campaign-settings", {"settings": {"quiet_hours": NEVER_QUIET, "unofficial_daily_cap": 1000}})
    api.seed(RECIPIENTS + 4, "natal")
    hidden, opted = [number(RECIPIENTS), number(RECIPIENTS + 1)], [number(RECIPIENTS + 2), number(RECIPIENTS + 3)]
    for phone in hidden:
        api("POST", "/contacts/hide", {"phone": phone})
    for phone in opted:
        api("POST", "/opt-outs", {"phone": phone})
    campaign_id, preview = api.start({"tags_any": ["natal"]}, ["Olá {{nome}}! Nossa promoção de Natal começou."])
    assert preview["audience"]["recipients"] == RECIPIENTS
    # hidden contacts were purged (contact, lead, tag) when hidden; the opted-out are counted out
    assert preview["audience"]["excluded"] == {"opted_out": 2}
    assert preview["samples"][0]["body"].endswith(INSTRUCTION)

    # a contact not reached yet asks to stop: the campaign never messages it
    late = number(RECIPIENTS - 1)
    api.inbound(late, "SAIR")
    wait(lambda: api("GET", f"/opt-outs/check?phone={late[1:]}")["opted_out"], 15, "the opt-out of a reply")

    wait(lambda: len(api.campaign_receipts()) >= 100, 60, "100 sends")
    paused = api("POST", f"/campaigns/{campaign_id}/pause")
    assert paused["status"] == "paused"
    time.sleep(0.5)  # a send claimed before the pause finishes
    during_pause = len(api.campaign_receipts())
    time.sleep(1.0)
    assert len(api.campaign_receipts()) == during_pause, "nothing goes out while paused"
    api("POST", f"/campaigns/{campaign_id}/resume")

    wait(lambda: len(api.campaign_receipts()) >= 250, 60, "250 sends")
    # the campaign pollers die mid-campaign (their batches never deleted); the supervisor restarts them
    pollers = stack.pollers("campaign")
    for poller in pollers:
        poller.kill()
    wait(lambda: all(p.alive() for p in pollers), 10, "the pollers to come back")

    try:
        done = wait(
            lambda: (c := api("GET", f"/campaigns/{campaign_id}"))["status"] == "completed" and c, 90, "the campaign"
        )
    except AssertionError:
        states = api.sql(
            "select status, error_code, skip_reason, count(*) as n, min(slot_at) as slot, max(claimed_at) as claimed"
            " from public.campaign_recipients group by 1, 2, 3"
        )
        raise AssertionError(f"{api('GET', f'/campaigns/{campaign_id}')} {states}") from None
    receipts = api.campaign_receipts()
    per_number = Counter(r.to for r in receipts)
    assert max(per_number.values()) == 1, "a recipient was messaged twice"
    expected = {number(i)[1:] for i in range(RECIPIENTS)} - {late[1:]}
    assert set(per_number) == expected
    for phone in [*hidden, *opted]:
        assert phone[1:] not in {r.to for r in api.session().receipts}
    # spacing: every campaign message starts at least the (scaled) minimum gap after the previous one
    times = sorted(r.at for r in receipts)
    gaps = [b - a for a, b in itertools.pairwise(times)]
    # the gateway stamps a request when its thread runs: on a loaded machine that jitters by more
    # than one scaled gap, so spacing is checked over runs of sends (jitter moves only their ends)
    min_gap = UNOFFICIAL_POLICY.min_gap_seconds * SCALE
    spans = [b - a for a, b in zip(times, times[WINDOW - 1 :], strict=False)]
    assert min(spans) >= (WINDOW - 1) * min_gap - JITTER
    assert statistics.median(gaps) >= min_gap
    long_pauses = sum(1 for g in gaps if g >= UNOFFICIAL_POLICY.long_pause_min_seconds * SCALE)
    assert long_pauses >= (RECIPIENTS // UNOFFICIAL_POLICY.burst_size) // 2  # the periodic long pauses
    progress = done["progress"]
    assert progress["sent"] == RECIPIENTS - 1 and progress["skipped"] == 1 and progress["failed"] == 0
    assert done["pause_code"] is None
    # the supervisor restarted the killed pollers
    assert stack.supervisor is not None and any("campaign" in r.child for r in stack.supervisor.restarts)
    # an opt-out reply after the message: confirmed, counted, and the reply attributed
    first = number(0)
    api.inbound(first, "Não quero mais receber essas mensagens")
    wait(
        lambda: (p := api("GET", f"/campaigns/{campaign_id}/progress"))["opted_out"] == 2 and p["replied"] == 1,
        15,
        "the reply and its opt-out counted",
    )
    wait(lambda: api.session().receipts[-1].text.startswith("Pronto!"), 15, "the confirmation")
    replies = api("GET", f"/campaigns/{campaign_id}/replies")
    assert [r["phone_e164"] for r in replies["items"]] == [first]
    # progress went out on the tenant's topic as it moved
    rows = api.sql(
        "select payload from realtime.messages where topic = %s and event = 'campaign_updated'", f"tenant:{api.tenant}"
    )
    statuses = {CampaignPayload.model_validate(r["payload"]).status for r in rows}
    assert {"draft", "approved", "running", "paused", "completed"} <= statuses


@pytest.mark.parametrize("stack_overrides", [FAST])
def test_quiet_hours_hold_a_campaign_until_morning(stack: LocalStack) -> None:
    api = Api(stack)
    sao_paulo = ZoneInfo("America/Sao_Paulo")
    stack.clock.set(datetime(2026, 12, 8, 21, 0, tzinfo=sao_paulo))  # a Tuesday evening
    api.seed(20, "noite")
    campaign_id, preview = api.start({"tags_any": ["noite"]}, ["Boa notícia, {{nome}}: sua fatura chegou."])
    assert preview["quiet_now"] is True
    time.sleep(1.5)  # six ticks: nothing planned, nothing sent
    assert api.campaign_receipts() == []
    assert api("GET", f"/campaigns/{campaign_id}/progress")["queued"] == 20
    stack.clock.set(datetime(2026, 12, 9, 7, 59, 59, tzinfo=sao_paulo))
    time.sleep(0.5)
    assert api.campaign_receipts() == []
    stack.clock.set(datetime(2026, 12, 9, 8, 0, 1, tzinfo=sao_paulo))  # morning
    wait(lambda: len(api.campaign_receipts()) == 20, 30, "the morning sends")
    sent_at = api.sql("select min(sent_at) as at from public.campaign_recipients where campaign_id = %s", campaign_id)
    assert sent_at[0]["at"].astimezone(sao_paulo).hour == 8
    assert datetime.now(UTC) < sent_at[0]["at"]  # on the stack's clock, not the real one
    # the gateway's acks come back through the webhooks: delivered and read are counted
    wait(
        lambda: (p := api("GET", f"/campaigns/{campaign_id}/progress"))["read"] == 20 and p["delivered"] == 20,
        30,
        "delivered and read counts",
    )
