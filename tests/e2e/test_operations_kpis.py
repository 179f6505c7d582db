"""GET /reports/kpis through the proxy's HTTP over a month of lifecycle events seeded by hand: every
figure below is computed by hand from the rows in MONTH (issue 17)."""

from __future__ import annotations

import uuid
from typing import Any

import psycopg
import pytest

from ponte.localstack.seed import DEMO_AGENT_ID, seed_tenant
from ponte.localstack.stack import LocalStack
from tests.e2e.conftest import OTHER_TENANT, OTHER_USER
from tests.e2e.test_operations_flow import OpsApi

pytestmark = pytest.mark.e2e

ANA, BIA = DEMO_AGENT_ID, "00000000-0000-4000-8000-0000000017c1"
TEAM = "00000000-0000-4000-8000-0000000017c2"
NOVEMBER = {"from": "2026-11-01T00:00:00-03:00", "to": "2026-12-01T00:00:00-03:00"}

# (conversation, kind, action, from_state, to_state, actor_type, agent, team, value_seconds, sla_due_at, at)
MONTH: list[tuple[str, str, str | None, str | None, str | None, str, str | None, str | None, float | None,
                  str | None, str]] = [
    # A: Ana answers in 10 min within its SLA, resolves in an hour, rated 5
    ("A", "transition", "open", None, "bot", "customer", None, None, None, None, "2026-11-03T12:00:00Z"),
    ("A", "transition", "route", "bot", "waiting", "system", None, TEAM, None, None, "2026-11-03T12:01:00Z"),
    ("A", "transition", "assign", "waiting", "in_service", "system", ANA, TEAM, 120, None, "2026-11-03T12:03:00Z"),
    ("A", "first_response", None, None, None, "agent", ANA, TEAM, 600, "2026-11-03T12:15:00Z", "2026-11-03T12:10:00Z"),
    ("A", "reply", None, None, None, "agent", ANA, TEAM, 600, "2026-11-03T12:15:00Z", "2026-11-03T12:10:00Z"),
    ("A", "transition", "resolve", "in_service", "resolved", "agent", ANA, TEAM, 3600, None, "2026-11-03T13:00:00Z"),
    ("A", "csat", None, None, None, "customer", ANA, TEAM, 5, None, "2026-11-03T13:05:00Z"),
    # B: Bia answers after 30 min, past the SLA due at 15:15, rated 3
    ("B", "transition", "open", None, "bot", "customer", None, None, None, None, "2026-11-10T15:00:00Z"),
    ("B", "transition", "route", "bot", "waiting", "rule", None, TEAM, None, None, "2026-11-10T15:00:30Z"),
    ("B", "transition", "assign", "waiting", "in_service", "system", BIA, TEAM, 1200, None, "2026-11-10T15:20:30Z"),
    ("B", "sla_breach", None, None, None, "system", BIA, TEAM, 60, "2026-11-10T15:15:00Z", "2026-11-10T15:16:00Z"),
    ("B", "first_response", None, None, None, "agent", BIA, TEAM, 1800, "2026-11-10T15:15:00Z",
     "2026-11-10T15:30:00Z"),
    ("B", "reply", None, None, None, "agent", BIA, TEAM, 1800, "2026-11-10T15:15:00Z", "2026-11-10T15:30:00Z"),
    ("B", "transition", "resolve", "in_service", "resolved", "agent", BIA, TEAM, 3600, None, "2026-11-10T16:00:00Z"),
    ("B", "csat", None, None, None, "customer", BIA, TEAM, 3, None, "2026-11-10T16:10:00Z"),
    # C: a thank-you the automation resolved in a minute
    ("C", "transition", "open", None, "bot", "customer", None, None, None, None, "2026-11-20T10:00:00Z"),
    ("C", "transition", "resolve", "bot", "resolved", "rule", None, None, 60, None, "2026-11-20T10:01:00Z"),
    # outside the period: the next month
    ("C", "transition", "reopen", "resolved", "bot", "customer", None, None, None, None, "2026-12-02T10:00:00Z"),
]  # fmt: skip


def seed_month(stack: LocalStack) -> dict[str, str]:
    assert stack.demo is not None
    tenant, instance = stack.demo.tenant_id, stack.demo.instance_id
    ids: dict[str, str] = {}
    with psycopg.connect(stack.dsn) as conn:
        seed_tenant(conn, tenant_id=tenant, name="Loja Demo", user_id=BIA, email="bia@k.local", role="agent")
        conn.execute("insert into public.teams (id, tenant_id, name) values (%s, %s, 'Suporte N1')", (TEAM, tenant))
        for key, phone in (("A", "+5511987650301"), ("B", "+5511987650302"), ("C", "+5511987650303")):
            contact = conn.execute(
                "insert into public.contacts (tenant_id, identity_key, phone_e164) values (%s, %s, %s) returning id",
                (tenant, phone, phone),
            ).fetchone()
            assert contact is not None
            row = conn.execute(
                "insert into public.conversations (tenant_id, instance_id, contact_id, chat_key, state, status)"
                " values (%s, %s, %s, %s, 'resolved', 'closed') returning id::text",
                (tenant, instance, contact[0], phone),
            ).fetchone()
            assert row is not None
            ids[key] = row[0]
            status = "won" if key == "A" else "open"
            conn.execute(
                "insert into public.leads (tenant_id, contact_id, conversation_id, status, created_at)"
                " values (%s, %s, %s, %s, %s)",
                (tenant, contact[0], row[0], status, "2026-11-05T12:00:00Z"),
            )
        for conversation, kind, action, before, after, actor, agent, team, value, due, at in MONTH:
            conn.execute(
                "insert into public.conversation_events (tenant_id, conversation_id, instance_id, cycle, kind, action,"
                " from_state, to_state, actor_type, agent_id, team_id, value_seconds, business_seconds, sla_due_at,"
                " occurred_at) values (%s, %s, %s, 1, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
                (tenant, ids[conversation], instance, kind, action, before, after, actor, agent, team, value, value,
                 due, at),
            )  # fmt: skip
        # another tenant's events in the same month are not the demo tenant's KPIs
        seed_tenant(conn, tenant_id=OTHER_TENANT, name="Outra Loja", user_id=OTHER_USER, email="b@outra.local",
                    instance_id=str(uuid.uuid4()), webhook_secret="other")  # fmt: skip
    return ids


# (phone, sent_at, its message's status, replied_at, with the reply's lead, opted_out_at, recipient status)
CAMPAIGN: list[tuple[str, str | None, str | None, str | None, bool, str | None, str]] = [
    ("+5511987650401", "2026-11-04T13:00:00Z", "read", "2026-11-04T14:00:00Z", True, None, "sent"),
    ("+5511987650402", "2026-11-05T13:00:00Z", "delivered", None, False, "2026-11-06T09:00:00Z", "sent"),
    ("+5511987650403", "2026-11-06T13:00:00Z", "sent", None, False, None, "sent"),
    ("+5511987650404", None, None, None, False, None, "failed"),  # failed on 2026-11-07
    ("+5511987650405", "2026-10-30T13:00:00Z", "read", "2026-11-02T10:00:00Z", False, None, "sent"),  # sent before
    ("+5511987650406", None, None, None, False, None, "queued"),
]  # fmt: skip


def seed_campaign(stack: LocalStack, conversation: str) -> None:
    """A campaign of the demo instance whose recipients' sends, replies and opt-outs fall in and out of
    November; their messages are written in ``conversation`` (only their statuses count)."""
    assert stack.demo is not None
    tenant = stack.demo.tenant_id
    with psycopg.connect(stack.dsn) as conn:
        campaign = conn.execute(
            "insert into public.campaigns (tenant_id, instance_id, name, status, audience, message, content_hash,"
            " approved_hash, approved_at) values (%s, %s, 'Black Friday', 'completed', '{}', '{}', 'h', 'h', now())"
            " returning id",
            (tenant, stack.demo.instance_id),
        ).fetchone()
        assert campaign is not None
        lead = conn.execute("select id from public.leads where conversation_id = %s", (conversation,)).fetchone()
        assert lead is not None
        for ordinal, (phone, sent_at, status, replied_at, with_lead, opted_out_at, state) in enumerate(CAMPAIGN):
            message = None
            if status is not None:
                row = conn.execute(
                    "insert into public.messages (tenant_id, instance_id, conversation_id, contact_id, chat_key,"
                    " provider_message_id, direction, kind, body, status, occurred_at)"
                    " select tenant_id, instance_id, id, contact_id, chat_key, %s, 'out', 'text', 'Oferta', %s, %s"
                    " from public.conversations where id = %s returning id",
                    (f"CAMPAIGN{ordinal}", status, sent_at, conversation),
                ).fetchone()
                assert row is not None
                message = row[0]
            conn.execute(
                "insert into public.campaign_recipients (tenant_id, campaign_id, ordinal, phone_e164, body, status,"
                " sent_at, message_id, replied_at, reply_lead_id, opted_out_at, updated_at)"
                " values (%s, %s, %s, %s, 'Oferta', %s, %s, %s, %s, %s, %s, %s)",
                (tenant, campaign[0], ordinal, phone, state, sent_at, message, replied_at,
                 lead[0] if with_lead else None, opted_out_at, "2026-11-07T12:00:00Z"),
            )  # fmt: skip


def test_kpis_of_a_seeded_month_match_the_hand_computed_figures(stack: LocalStack) -> None:
    assert stack.demo is not None
    ids = seed_month(stack)
    seed_campaign(stack, ids["A"])
    owner = OpsApi(stack, stack.demo.user_id)
    response = owner.get("/reports/kpis", **NOVEMBER)
    assert response.status_code == 200, response.text
    k: dict[str, Any] = response.json()
    assert (k["conversations_opened"], k["conversations_queued"], k["conversations_resolved"]) == (3, 2, 3)
    assert (k["resolved_by_automation"], k["automation_resolution_rate"]) == (1, 0.3333)
    # first responses 600 and 1800 s: p50 1200, p90 600 + 0.9 x 1200 = 1680
    assert k["first_response"] == {"count": 2, "seconds_avg": 1200.0, "seconds_p50": 1200.0, "seconds_p90": 1680.0,
                                   "seconds_p95": 1740.0, "business_seconds_p50": 1200.0,
                                   "business_seconds_p90": 1680.0}  # fmt: skip
    assert k["reply"]["count"] == 2 and k["reply"]["seconds_p50"] == 1200.0
    # resolutions 60, 3600, 3600 s
    assert (k["resolution"]["count"], k["resolution"]["seconds_avg"], k["resolution"]["seconds_p50"]) == (3, 2420, 3600)
    # queue waits 120 and 1200 s: p50 660, p90 120 + 0.9 x 1080 = 1092
    assert (k["queue_wait"]["seconds_p50"], k["queue_wait"]["seconds_p90"]) == (660.0, 1092.0)
    assert (k["sla_breaches"], k["sla_met"], k["sla_breach_rate"]) == (1, 1, 0.5)
    assert (k["csat_average"], k["csat_count"]) == (4.0, 2)
    assert (k["leads_created"], k["leads_won"], k["lead_conversion_rate"]) == (3, 1, 0.3333)
    # the campaign: 3 sent in November (2 delivered, 1 read), 1 failed, 2 replies (one to an October
    # send) of which one created a lead, 1 opt-out
    assert k["campaigns"] == {"sent": 3, "delivered": 2, "read": 1, "failed": 1, "replied": 2, "opted_out": 1,
                              "leads_created": 1, "reply_rate": 0.6667}  # fmt: skip
    # São Paulo days and hours (UTC-3)
    assert [(d["day"], d["conversations_opened"], d["conversations_resolved"]) for d in k["by_day"]] == [
        ("2026-11-03", 1, 1), ("2026-11-10", 1, 1), ("2026-11-20", 1, 1)]  # fmt: skip
    assert [(h["hour"], h["conversations_opened"]) for h in k["by_hour"]] == [(7, 1), (9, 1), (12, 1)]
    agents = {a["agent_id"]: a for a in k["agents"]}
    assert set(agents) == {ANA, BIA}
    assert (agents[ANA]["assigned"], agents[ANA]["resolved"], agents[ANA]["first_response_seconds_p50"],
            agents[ANA]["csat_average"]) == (1, 1, 600.0, 5.0)  # fmt: skip
    assert (agents[BIA]["first_response_seconds_p50"], agents[BIA]["csat_average"]) == (1800.0, 3.0)

    # filters: one agent, one team, and an instance with nothing
    ana = owner.get("/reports/kpis", agent=ANA, **NOVEMBER).json()
    assert (ana["first_response"]["count"], ana["first_response"]["seconds_p50"], ana["csat_average"]) == (1, 600, 5)
    team = owner.get("/reports/kpis", team=TEAM, **NOVEMBER).json()
    assert (team["conversations_queued"], team["conversations_resolved"], team["sla_breaches"]) == (2, 2, 1)
    empty = owner.get("/reports/kpis", instance=str(uuid.uuid4()), **NOVEMBER).json()
    assert (empty["conversations_opened"], empty["first_response"]["seconds_p50"], empty["agents"]) == (0, None, [])
    assert (empty["campaigns"]["sent"], empty["campaigns"]["replied"], empty["campaigns"]["reply_rate"]) == (0, 0, None)
    assert owner.get("/reports/kpis", instance=stack.demo.instance_id, **NOVEMBER).json()["campaigns"]["sent"] == 3
    # December holds the reopening only
    december = owner.get("/reports/kpis", **{"from": "2026-12-01T00:00:00-03:00", "to": "2027-01-01T00:00:00-03:00"})
    assert december.json()["conversations_opened"] == 1


def test_the_report_is_for_owners_and_admins_and_checks_its_period(stack: LocalStack) -> None:
    assert stack.demo is not None
    seed_month(stack)
    owner, agent, outsider = OpsApi(stack, stack.demo.user_id), OpsApi(stack, ANA), OpsApi(stack, OTHER_USER)
    cases = [
        (agent.get("/reports/kpis", **NOVEMBER), 403, "forbidden"),
        (outsider.get("/reports/kpis", tenant_id=stack.demo.tenant_id, **NOVEMBER), 403, "forbidden"),
        (owner.get("/reports/kpis"), 400, "invalid_period"),
        (owner.get("/reports/kpis", **{"from": "2026-11-01T00:00:00", "to": "2026-12-01T00:00:00Z"}), 400,
         "invalid_time"),
        (owner.get("/reports/kpis", **{"from": "2026-12-01T00:00:00Z", "to": "2026-11-01T00:00:00Z"}), 400,
         "invalid_period"),
        (owner.get("/reports/kpis", **{"from": "2020-01-01T00:00:00Z", "to": "2026-01-01T00:00:00Z"}), 400,
         "invalid_period"),
        (owner.get("/reports/kpis", team="x\u0000", **NOVEMBER), 400, "invalid_team"),
        (owner.get("/reports/kpis", agent="'; drop table x", **NOVEMBER), 400, "invalid_agent"),
        (owner.get("/reports/kpis", **{"from": "9" * 5000, "to": "2026-12-01T00:00:00Z"}), 400, "invalid_time"),
    ]  # fmt: skip
    for response, status, code in cases:
        assert (response.status_code, response.json()["code"]) == (status, code), response.text
    # the other tenant's owner reads their own (empty) month
    theirs = outsider.get("/reports/kpis", **NOVEMBER)
    assert theirs.status_code == 200 and theirs.json()["conversations_opened"] == 0
