"""The lifecycle on real PostgreSQL: two agents taking one conversation at once (exactly one wins),
concurrent automatic-assignment passes that never exceed capacity (SKIP LOCKED, the team row
held), the reply clocks and protocol numbers, and a CSAT answer that does not reopen."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import psycopg
import pytest

from ponte.adapters.postgres.db import Database
from ponte.adapters.postgres.ingest_store import PgIngestStore
from ponte.adapters.postgres.lifecycle import PgLifecycleStore
from ponte.domain.lifecycle_job import LifecycleJob
from ponte.domain.operations import AutomaticKind, OperationsSettings
from ponte.domain.operations_api import AssignRequest, ResolveRequest
from ponte.localstack.seed import seed_tenant
from ponte.ports.lifecycle import AutomaticSender, LifecycleQueue
from ponte.services.automation import AutomationService
from ponte.services.exceptions import ConflictError
from ponte.services.ingest import IngestService
from ponte.services.lifecycle import LifecycleService
from tests.integration.helpers import envelope, message, seeded_database

pytestmark = pytest.mark.integration

TENANT = "00000000-0000-4000-8000-0000000017a1"
OWNER = "00000000-0000-4000-8000-0000000017a2"
INSTANCE = "00000000-0000-4000-8000-0000000017a3"
ANA = "00000000-0000-4000-8000-0000000017a4"
BIA = "00000000-0000-4000-8000-0000000017a5"
TEAM = "00000000-0000-4000-8000-0000000017a6"
T0 = datetime.now(UTC) - timedelta(hours=1)


def claims(user: str) -> dict[str, str]:
    return {"role": "authenticated", "sub": user}


class Jobs(LifecycleQueue):
    def __init__(self) -> None:
        self.jobs: list[LifecycleJob] = []

    def publish(self, jobs: list[LifecycleJob]) -> None:
        self.jobs.extend(jobs)


class Sent(AutomaticSender):
    def __init__(self) -> None:
        self.sent: list[tuple[AutomaticKind, str, str]] = []

    def send(self, tenant_id: str, conversation_id: str, kind: AutomaticKind, text: str, key: str) -> bool:
        self.sent.append((kind, text, key))
        return True


@pytest.fixture
def db(db_dsn: str) -> Iterator[Database]:
    with seeded_database(db_dsn, tenant_id=TENANT, user_id=OWNER, instance_id=INSTANCE) as database:
        with psycopg.connect(db_dsn) as conn:
            for user, email in ((ANA, "ana@t.local"), (BIA, "bia@t.local")):
                seed_tenant(conn, tenant_id=TENANT, name="T", user_id=user, email=email, role="agent")
            conn.execute("insert into public.teams (id, tenant_id, name, agent_capacity) values (%s, %s, 'N1', 1)",
                         (TEAM, TENANT))  # fmt: skip
            for user in (ANA, BIA):
                conn.execute("insert into public.team_members (tenant_id, team_id, user_id) values (%s, %s, %s)",
                             (TENANT, TEAM, user))  # fmt: skip
        yield database


def conversations(db: Database, jobs: Jobs, count: int) -> list[str]:
    ingest = IngestService(PgIngestStore(db), lifecycle_queue=jobs)
    for i in range(count):
        ingest.handle(envelope(TENANT, INSTANCE, message(f"M{i}", jid=f"55119876501{i:02d}@s.whatsapp.net", at=T0)))
    with db.as_service(TENANT) as conn:
        rows = conn.execute("select id::text from public.conversations order by chat_key").fetchall()
    return [r["id"] for r in rows]


def online(db: Database, *users: str) -> None:
    with db.as_service(TENANT) as conn:
        for user in users:
            conn.execute("insert into public.agent_presence (tenant_id, user_id, status) values (%s, %s, 'online')",
                         (TENANT, user))  # fmt: skip


def test_ingest_signals_the_lifecycle_after_commit_and_automation_opens_the_cycle(db: Database) -> None:
    jobs = Jobs()
    (conversation,) = conversations(db, jobs, 1)
    # GIVEN one job per conversation per unit of work, pointing at the stored message
    (job,) = jobs.jobs
    assert job.kind == "messages" and job.conversation_id == conversation
    assert [(s.inbound, s.kind) for s in job.messages] == [(True, "text")]
    store, sender = PgLifecycleStore(db), Sent()
    automation = AutomationService(store, LifecycleService(store), sender=sender)
    # WHEN the lifecycle function handles it (twice: SQS delivers at least once)
    assert automation.handle(job) == "opened"
    assert automation.handle(job) == "no_change"
    with db.as_service(TENANT) as conn:
        row = conn.execute("select state, protocol, waiting_since, cycle from public.conversations").fetchone()
        events = conn.execute("select action, actor_type from public.conversation_events").fetchall()
    assert row is not None and row["state"] == "bot" and row["cycle"] == 1
    assert row["protocol"].startswith(T0.astimezone(UTC).strftime("%Y")) and len(row["protocol"]) == 14
    assert row["waiting_since"] == T0
    assert [(e["action"], e["actor_type"]) for e in events] == [("open", "customer")]
    assert sender.sent == []  # automatic messages are off until the tenant turns them on


def test_two_agents_taking_one_conversation_at_once_exactly_one_wins(db: Database) -> None:
    (conversation,) = conversations(db, Jobs(), 1)
    service = LifecycleService(PgLifecycleStore(db))
    barrier = threading.Barrier(2)
    outcomes: dict[str, str] = {}

    def take(user: str) -> None:
        barrier.wait()
        try:
            view = service.assign(claims(user), conversation, AssignRequest(agent_id=user))
            outcomes[user] = f"won:{view.assigned_to}"
        except ConflictError as exc:
            outcomes[user] = exc.code

    threads = [threading.Thread(target=take, args=(user,)) for user in (ANA, BIA)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    winner = next(u for u, v in outcomes.items() if v.startswith("won"))
    assert sorted(outcomes.values()) == sorted(["already_assigned", f"won:{winner}"])
    with db.as_service(TENANT) as conn:
        row = conn.execute("select state, assigned_to::text from public.conversations").fetchone()
        assigns = conn.execute("select count(*) from public.conversation_events where action = 'assign'").fetchone()
    assert row == {"state": "in_service", "assigned_to": winner}
    assert assigns == {"count": 1}


def test_concurrent_assignment_passes_never_exceed_capacity(db: Database) -> None:
    jobs = Jobs()
    ids = conversations(db, jobs, 5)
    with db.as_service(TENANT) as conn:
        conn.execute("update public.conversations set state = 'waiting', team_id = %s, queued_at = now()", (TEAM,))
    online(db, ANA, BIA)
    store = PgLifecycleStore(db)
    barrier = threading.Barrier(3)
    results: list[list[tuple[str, str]]] = []

    def sweep() -> None:
        barrier.wait()
        results.append(store.assign_waiting(TENANT, TEAM, datetime.now(UTC), OperationsSettings()))

    threads = [threading.Thread(target=sweep) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    given = [pair for result in results for pair in result]
    # capacity 1 each: two conversations, one per agent, and nobody twice
    assert sorted(agent for _, agent in given) == sorted([ANA, BIA])
    assert len({c for c, _ in given}) == 2 and {c for c, _ in given} <= set(ids)
    with db.as_service(TENANT) as conn:
        counts = conn.execute(
            "select state, count(*) from public.conversations group by state order by state"
        ).fetchall()
    assert [(r["state"], r["count"]) for r in counts] == [("in_service", 2), ("waiting", 3)]


def test_a_reply_stops_the_clocks_once_and_a_csat_answer_does_not_reopen(db: Database) -> None:
    jobs = Jobs()
    (conversation,) = conversations(db, jobs, 1)
    store, sender = PgLifecycleStore(db), Sent()
    lifecycle = LifecycleService(store, queue=jobs)
    automation = AutomationService(store, lifecycle, sender=sender)
    automation.handle(jobs.jobs[0])
    with db.as_service(TENANT) as conn:
        conn.execute(
            "insert into public.operations_settings (tenant_id, settings) values (%s, %s)",
            (TENANT, '{"automatic_messages": {"csat_request": {"enabled": true, "template": "Nota? {protocolo}"},'
                     ' "csat_thanks": {"enabled": true, "template": "Obrigado!"}}}'),
        )  # fmt: skip
        message_id = conn.execute("select id::text from public.messages").fetchone()["id"]
    replied_at = T0 + timedelta(minutes=7)
    # WHEN Ana replies (seen twice: by the proxy's send and by the ingest of its echo)
    first = lifecycle.record_reply(TENANT, conversation, message_id, ANA, replied_at)
    again = lifecycle.record_reply(TENANT, conversation, message_id, ANA, replied_at)
    assert sorted(e.kind for e in first) == ["first_response", "reply", "transition"]  # she took it, too
    assert {e.kind: e.value_seconds for e in first if e.kind != "transition"} == {
        "first_response": 420.0, "reply": 420.0}  # fmt: skip
    assert again == []
    view = lifecycle.resolve(claims(ANA), conversation, ResolveRequest())
    assert view.state == "resolved" and view.status == "closed"
    resolved_job = jobs.jobs[-1]
    assert resolved_job.kind == "resolved" and automation.handle(resolved_job) == "csat_requested"
    assert automation.handle(resolved_job) == "already_asked"
    assert [kind for kind, _, _ in sender.sent] == [AutomaticKind.CSAT_REQUEST]
    # the customer answers "ótimo" (a rating): stored, thanked, not reopened
    ingest = IngestService(PgIngestStore(db), lifecycle_queue=jobs)
    ingest.handle(envelope(TENANT, INSTANCE, message("RATE", jid="5511987650100@s.whatsapp.net", text="ótimo!",
                                                     at=datetime.now(UTC) + timedelta(seconds=1))))  # fmt: skip
    assert automation.handle(jobs.jobs[-1]) == "csat_answered"
    with db.as_service(TENANT) as conn:
        csat = conn.execute("select score, cycle, agent_id::text from public.csat_responses").fetchone()
        state = conn.execute("select state, cycle from public.conversations").fetchone()
    assert csat == {"score": 5, "cycle": 1, "agent_id": ANA}
    assert state == {"state": "resolved", "cycle": 1}
    assert [kind for kind, _, _ in sender.sent] == [AutomaticKind.CSAT_REQUEST, AutomaticKind.CSAT_THANKS]
    # a real question afterwards reopens it: a new cycle with a new protocol
    ingest.handle(envelope(TENANT, INSTANCE, message("Q2", jid="5511987650100@s.whatsapp.net",
                                                     text="e a segunda via do boleto?",
                                                     at=datetime.now(UTC) + timedelta(seconds=2))))  # fmt: skip
    assert automation.handle(jobs.jobs[-1]) == "reopen"
    with db.as_service(TENANT) as conn:
        rows = conn.execute("select state, cycle, protocol from public.conversations").fetchall()
    assert [(r["state"], r["cycle"]) for r in rows] == [("bot", 2)]
