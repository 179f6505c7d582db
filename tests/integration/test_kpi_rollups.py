"""The KPI rollups (migration 20261207070000) against the events they count, on real PostgreSQL: a
seeded random history written the ways events are written (one row per statement as the lifecycle
does, many rows per statement as a bulk load), changed (updated, deleted, cascaded from a deleted
conversation, purged with an erased contact); after each change the rollups equal a rebuild from
the events, and the report equals the reference computed from every event of the period
(tests/support/kpi_reference.py, the report as it was before the rollups) for periods aligned
to São Paulo midnights or not, and every filter."""

from __future__ import annotations

import json
import random
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import psycopg
import pytest

from ponte.adapters.postgres.lifecycle import PROTOCOL_TIME_ZONE
from ponte.adapters.postgres.reports import PgReportStore
from ponte.domain.hidden import ContactRef
from ponte.domain.identity import identity_from_jid
from ponte.ports.reports import KpiQuery
from tests.support.kpi_reference import EventsReportStore
from tests.support.privacy import (
    ADMIN,
    AGENT,
    INSTANCE,
    MODERN_JID,
    OTHER_INSTANCE,
    OTHER_TENANT,
    OWNER,
    PHONE,
    TENANT,
    Wired,
    claims,
    message,
    seeded_and_wired,
)

pytestmark = pytest.mark.integration

SAO_PAULO = ZoneInfo(PROTOCOL_TIME_ZONE)
TEAMS = ("00000000-0000-4000-8000-0000000007a1", "00000000-0000-4000-8000-0000000007a2")
STRANGER = "00000000-0000-4000-8000-0000000007a3"  # an agent id that is nobody's member (left the tenant)
SECOND_INSTANCE = "00000000-0000-4000-8000-0000000007a4"
START = datetime(2026, 3, 1, 3, 0, tzinfo=UTC)  # São Paulo midnight
DAYS = 60
LONELY_DAY = datetime(2026, 7, 15, 15, 0, tzinfo=UTC)  # only the erased contact's events fall on it

_COLUMNS = (
    "tenant_id", "conversation_id", "instance_id", "cycle", "kind", "action", "from_state", "to_state", "actor_type",
    "team_id", "agent_id", "value_seconds", "business_seconds", "sla_due_at", "occurred_at",
)  # fmt: skip
INSERT = (
    f"insert into public.conversation_events ({', '.join(_COLUMNS)})"
    f" select {', '.join(_COLUMNS)} from jsonb_populate_recordset(null::public.conversation_events, %s)"
)
ROLLUPS = (
    "select tenant_id, day, team_id, agent_id, instance_id, events, opened, queued, resolved, resolved_by_automation,"
    " assigned, first_responses, replies, sla_breaches, sla_met, csat_count, csat_rated, csat_sum"
    " from public.kpi_daily order by 1, 2, 3, 4, 5",
    "select tenant_id, day, hour, team_id, agent_id, instance_id, opened from public.kpi_hourly_opened"
    " order by 1, 2, 3, 4, 5, 6",
)


@pytest.fixture
def w(db_dsn: str) -> Iterator[Wired]:
    with seeded_and_wired(db_dsn) as wired:
        yield wired


# --- a random history ------------------------------------------------------------------------------


def _moment(rng: random.Random) -> datetime:
    """Anywhere in the period, often right at or around a São Paulo midnight (the rollups' edges)."""
    day = START + timedelta(days=rng.randrange(DAYS))
    return rng.choice(
        [
            day + timedelta(seconds=rng.uniform(0, 86_400)),
            day,
            day - timedelta(microseconds=1),
            day + timedelta(microseconds=1),
            day - timedelta(hours=3),  # a UTC midnight: 21:00 in São Paulo
        ]
    )


# (kind, action, from_state, to_state): every shape the lifecycle writes, and a few it never would
SHAPES = [
    ("transition", "open", None, "bot"), ("transition", "reopen", "resolved", "bot"),
    ("transition", "route", "bot", "waiting"), ("transition", "route", "bot", "resolved"),
    ("transition", "transfer", "in_service", "waiting"), ("transition", "transfer", "in_service", "in_service"),
    ("transition", "assign", "waiting", "in_service"), ("transition", "assign", "in_service", "in_service"),
    ("transition", "snooze", "in_service", "snoozed"), ("transition", "wake", "snoozed", "in_service"),
    ("transition", "resolve", "in_service", "resolved"), ("transition", "resolve", "bot", "resolved"),
    ("transition", None, None, None),
    ("first_response", None, None, None), ("reply", None, None, None), ("reply", None, None, None),
    ("csat", None, None, None), ("sla_breach", None, None, None),
]  # fmt: skip


def _event(rng: random.Random, tenant: str, conversation: str, instances: tuple[str, ...]) -> dict[str, Any]:
    kind, action, before, after = rng.choice(SHAPES)
    at = _moment(rng)
    value: float | None = round(rng.uniform(0.5, 90_000), 6) if rng.random() < 0.85 else None
    if kind == "csat":
        value = float(rng.randint(1, 5)) if rng.random() < 0.9 else None
    early, late = at - timedelta(seconds=rng.uniform(1, 600)), at + timedelta(seconds=rng.uniform(0, 600))
    due = rng.choice([None, early, late, at])
    return {
        "tenant_id": tenant, "conversation_id": conversation, "instance_id": rng.choice(instances), "cycle": 1,
        "kind": kind, "action": action, "from_state": before, "to_state": after,
        "actor_type": rng.choice(["system", "rule", "agent", "customer"]),
        "team_id": rng.choice([*TEAMS, None]), "agent_id": rng.choice([OWNER, ADMIN, AGENT, STRANGER, None, None]),
        "value_seconds": value, "business_seconds": None if value is None else round(value * rng.random(), 6),
        "sla_due_at": due.isoformat() if due else None, "occurred_at": at.isoformat(),
    }  # fmt: skip


def _conversation(conn: psycopg.Connection[Any], tenant: str, instance: str, phone: str) -> str:
    contact = conn.execute(
        "insert into public.contacts (tenant_id, identity_key, phone_e164) values (%s, %s, %s) returning id",
        (tenant, phone, phone),
    ).fetchone()
    assert contact is not None
    row = conn.execute(
        "insert into public.conversations (tenant_id, instance_id, contact_id, chat_key) values (%s, %s, %s, %s)"
        " returning id::text",
        (tenant, instance, contact[0], phone),
    ).fetchone()
    assert row is not None
    return str(row[0])


def write_history(w: Wired, seed: int) -> dict[str, Any]:
    """Conversations of both tenants with random events, written in statements of 1 to 40 rows."""
    rng = random.Random(seed)
    assert w.store.save_message(TENANT, INSTANCE, message("k1", identity_from_jid(MODERN_JID))).stored
    with psycopg.connect(w.dsn) as conn:
        for name, team in zip(("Suporte N1", "Financeiro"), TEAMS, strict=True):
            conn.execute("insert into public.teams (id, tenant_id, name) values (%s, %s, %s)", (team, TENANT, name))
        erased = conn.execute(
            "select id::text from public.conversations where tenant_id = %s and chat_key = %s", (TENANT, PHONE)
        ).fetchone()
        assert erased is not None
        ours = [_conversation(conn, TENANT, INSTANCE, f"+55119876510{n:02d}") for n in range(8)]
        theirs = [_conversation(conn, OTHER_TENANT, OTHER_INSTANCE, f"+55119876520{n:02d}") for n in range(2)]
        events = [_event(rng, TENANT, c, (INSTANCE, SECOND_INSTANCE)) for c in ours for _ in range(70)]
        events += [_event(rng, TENANT, erased[0], (INSTANCE,)) for _ in range(40)]
        events += [_event(rng, OTHER_TENANT, c, (OTHER_INSTANCE,)) for c in theirs for _ in range(60)]
        # the erased contact alone on one day, with an agent of its own: nothing of it may stay there
        lonely = {**_event(rng, TENANT, erased[0], (INSTANCE,)), "kind": "transition", "action": "open",
                  "to_state": "bot", "agent_id": STRANGER, "occurred_at": LONELY_DAY.isoformat()}  # fmt: skip
        events.append(lonely)
        rng.shuffle(events)
        while events:
            size = rng.choice([1, 1, 1, 2, 7, 40])
            batch, events = events[:size], events[size:]
            conn.execute(INSERT, (json.dumps(batch),))
    return {"ours": ours, "erased": erased[0]}


# --- the checks ------------------------------------------------------------------------------------


def rollups_match_a_rebuild(dsn: str) -> None:
    with psycopg.connect(dsn) as conn:
        kept = [conn.execute(sql).fetchall() for sql in ROLLUPS]
        conn.execute("select private.kpi_rebuild(null)")
        rebuilt = [conn.execute(sql).fetchall() for sql in ROLLUPS]
        conn.rollback()
    assert kept[0], "no rollup rows: the triggers did not run"
    assert kept == rebuilt


def _same(ours: Any, reference: Any, path: str = "") -> None:
    if isinstance(reference, dict):
        assert set(ours) == set(reference), path
        for key in reference:
            _same(ours[key], reference[key], f"{path}.{key}")
    elif isinstance(reference, list):
        assert len(ours) == len(reference), path
        for n, (a, b) in enumerate(zip(ours, reference, strict=True)):
            _same(a, b, f"{path}[{n}]")
    elif path.endswith("seconds_avg") and reference is not None:
        assert ours == pytest.approx(reference, rel=1e-12), path  # a sum in another order
    else:
        assert ours == reference, path


def periods(rng: random.Random) -> list[tuple[datetime, datetime]]:
    midnight = START + timedelta(days=10)
    fixed = [
        (START - timedelta(days=30), START + timedelta(days=DAYS + 200)),  # everything
        (midnight, midnight + timedelta(days=7)),  # whole days only
        (midnight + timedelta(hours=5), midnight + timedelta(days=7, hours=2)),  # partial days at both ends
        (midnight + timedelta(hours=1), midnight + timedelta(hours=9)),  # inside one day
        (midnight + timedelta(hours=20), midnight + timedelta(days=1, hours=4)),  # across one midnight, no whole day
        (midnight - timedelta(hours=3), midnight + timedelta(days=3, hours=-3)),  # UTC midnights
        (midnight - timedelta(microseconds=1), midnight + timedelta(days=2, microseconds=1)),
        (midnight, midnight + timedelta(days=1)),  # exactly one day
    ]
    drawn = []
    for _ in range(12):
        a, b = sorted((_moment(rng), _moment(rng)))
        drawn.append((a, b + timedelta(microseconds=1)))
    return fixed + drawn


def reports_match_the_reference(w: Wired, seed: int) -> None:
    rng = random.Random(seed)
    ours, reference = PgReportStore(w.db), EventsReportStore(w.db)
    filters: list[dict[str, str | None]] = [
        {}, {"team_id": TEAMS[0]}, {"agent_id": ADMIN}, {"agent_id": STRANGER}, {"instance_id": SECOND_INSTANCE},
        {"team_id": TEAMS[1], "agent_id": AGENT, "instance_id": INSTANCE}, {"team_id": str(uuid.uuid4())},
    ]  # fmt: skip
    compared = 0
    for start, end in periods(rng):
        for chosen in filters:
            query = KpiQuery(tenant_id=TENANT, period_from=start, period_to=end, **chosen)
            got, expected = ours.kpis(claims(OWNER), query), reference.kpis(claims(OWNER), query)
            _same(got.model_dump(mode="json"), expected.model_dump(mode="json"), f"{start}..{end} {chosen}")
            compared += expected.conversations_opened + expected.reply.count
    assert compared > 300, "the history is too thin to compare anything"


# --- the tests -------------------------------------------------------------------------------------


def test_the_report_from_the_rollups_equals_the_report_from_every_event(w: Wired) -> None:
    # GIVEN a random history of two tenants, written one row and many rows per statement
    write_history(w, seed=17)
    # THEN the rollups are what a rebuild from the events gives, and every figure is the reference's
    rollups_match_a_rebuild(w.dsn)
    reports_match_the_reference(w, seed=1)


def test_updated_deleted_and_cascaded_events_and_a_deleted_tenant_leave_the_rollups_exact(w: Wired) -> None:
    history = write_history(w, seed=29)
    first, second, third = history["ours"][:3]
    with psycopg.connect(w.dsn) as conn:
        # WHEN events are changed, moved to another day, deleted, and deleted with their conversation
        conn.execute(
            "update public.conversation_events set team_id = %s, agent_id = null where conversation_id = %s",
            (TEAMS[1], first),
        )
        conn.execute(
            "update public.conversation_events set occurred_at = occurred_at + interval '1 day 5 hours'"
            " where id in (select id from public.conversation_events where conversation_id = %s limit 20)",
            (second,),
        )
        conn.execute(
            "delete from public.conversation_events where id in"
            " (select id from public.conversation_events where tenant_id = %s order by random() limit 60)",
            (TENANT,),
        )
        conn.execute("delete from public.conversations where id = %s", (third,))
        theirs = conn.execute("select count(*) from public.kpi_daily where tenant_id = %s", (OTHER_TENANT,)).fetchone()
        assert theirs is not None and theirs[0] > 0
        conn.execute("delete from public.tenants where id = %s", (OTHER_TENANT,))
    # THEN the rollups still equal a rebuild (a deleted tenant's went with it) and the report the reference
    rollups_match_a_rebuild(w.dsn)
    assert w.count("select count(*) from public.kpi_daily where tenant_id = %s", OTHER_TENANT) == 0
    reports_match_the_reference(w, seed=2)


def test_an_erased_contact_leaves_no_count_behind(w: Wired) -> None:
    history = write_history(w, seed=43)
    lonely = LONELY_DAY.astimezone(SAO_PAULO).date()
    day_rows = (
        "select (select count(*) from public.kpi_daily where tenant_id = %(t)s and day = %(d)s)"
        " + (select count(*) from public.kpi_hourly_opened where tenant_id = %(t)s and day = %(d)s)"
    )
    with psycopg.connect(w.dsn) as conn:
        assert conn.execute(day_rows, {"t": TENANT, "d": lonely}).fetchone() == (2,)
        contact = conn.execute(
            "select contact_id::text from public.conversations where id = %s", (history["erased"],)
        ).fetchone()
    assert contact is not None
    # WHEN an admin erases the contact (the purge of a hidden contact is the same purge)
    result = w.service.erase(claims(ADMIN), ContactRef(contact_id=contact[0]))
    # THEN its events are gone, and with them every count they made: its lonely day has no row
    assert result.deleted.counts["public.conversation_events"] == 41
    with psycopg.connect(w.dsn) as conn:
        assert conn.execute(day_rows, {"t": TENANT, "d": lonely}).fetchone() == (0,)
        assert conn.execute(
            "select count(*) from public.kpi_daily where tenant_id = %s and agent_id = %s and day = %s",
            (TENANT, STRANGER, lonely),
        ).fetchone() == (0,)
    rollups_match_a_rebuild(w.dsn)
    reports_match_the_reference(w, seed=3)


def test_the_rollups_calendar_is_the_reports_time_zone(w: Wired) -> None:
    instants = [
        datetime(2026, 1, 1, 2, 59, 59, tzinfo=UTC), datetime(2026, 1, 1, 3, 0, tzinfo=UTC),
        datetime(2026, 6, 30, 23, 30, tzinfo=UTC), datetime(2018, 11, 4, 2, 59, tzinfo=UTC),  # a DST start
        datetime(2018, 11, 4, 3, 0, tzinfo=UTC), datetime(2019, 2, 17, 1, 30, tzinfo=UTC),  # a DST end
    ]  # fmt: skip
    with psycopg.connect(w.dsn) as conn:
        for at in instants:
            local = at.astimezone(SAO_PAULO)
            row = conn.execute("select private.kpi_day(%s), private.kpi_hour(%s)", (at, at)).fetchone()
            assert row == (local.date(), local.hour), at
            start = conn.execute("select private.kpi_day_start(%s)", (local.date(),)).fetchone()
            assert start is not None
            assert start[0].astimezone(SAO_PAULO).date() == local.date()
            assert conn.execute("select private.kpi_day(%s)", (start[0] - timedelta(microseconds=1),)).fetchone() == (
                local.date() - timedelta(days=1),
            )


def test_concurrent_writers_of_one_day_and_agent_lose_no_count(w: Wired) -> None:
    # GIVEN conversations whose events all fall on one day, for one team and agent (the same rollup rows)
    with psycopg.connect(w.dsn) as conn:
        conversations = [_conversation(conn, TENANT, INSTANCE, f"+55119876530{n:02d}") for n in range(4)]
    at = START + timedelta(days=3, hours=15)

    def writer(conversation: str) -> None:
        with psycopg.connect(w.dsn, autocommit=True) as conn:  # one event per transaction, as the lifecycle
            for n in range(40):
                event = {
                    "tenant_id": TENANT, "conversation_id": conversation, "instance_id": INSTANCE, "cycle": 1,
                    "kind": "transition", "action": "open" if n % 4 == 0 else "assign", "from_state": "waiting",
                    "to_state": "in_service", "actor_type": "system", "team_id": TEAMS[0], "agent_id": AGENT,
                    "value_seconds": float(n), "occurred_at": (at + timedelta(seconds=n)).isoformat(),
                }  # fmt: skip
                conn.execute(INSERT, (json.dumps([event]),))

    # WHEN four writers add their events at once
    with ThreadPoolExecutor(max_workers=4) as pool:
        list(pool.map(writer, conversations))
    # THEN every event is counted once
    with psycopg.connect(w.dsn) as conn:
        row = conn.execute(
            "select events, opened, assigned from public.kpi_daily where tenant_id = %s and day = %s"
            " and team_id = %s and agent_id = %s",
            (TENANT, at.astimezone(SAO_PAULO).date(), TEAMS[0], AGENT),
        ).fetchone()
    assert row == (160, 40, 120)
    rollups_match_a_rebuild(w.dsn)
