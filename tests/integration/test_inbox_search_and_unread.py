"""Search and the unread filter on real PostgreSQL (issue 13).

Search (``public.search_messages``) walks the caller's newest messages first and asks the text index
for the rest: whichever way a page is found, it must be the caller's newest matches in order, page
after page by cursor, never another tenant's. The unread filter compares the conversation's newest
inbound message (``conversations.last_inbound_at``) with the caller's read mark: it must follow
ingest, read marks, a contact merge and a purge, and agree with the unread counts.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg
import pytest

from ponte.adapters.postgres.inbox import PgInboxReader
from ponte.adapters.postgres.migrate import apply_migrations
from ponte.domain.events import Direction, Identity, MessageEvent, MessageKind, Provider
from ponte.domain.hidden import ContactRef
from ponte.domain.identity import identity_from_jid
from ponte.localstack.seed import seed_tenant
from ponte.ports.inbox import InboxQuery
from tests.support.privacy import (
    AGENT,
    BYSTANDER_JID,
    INSTANCE,
    MODERN_JID,
    OTHER_INSTANCE,
    OTHER_OWNER,
    OTHER_TENANT,
    OWNER,
    TENANT,
    Wired,
    claims,
    seeded_and_wired,
)

pytestmark = pytest.mark.integration

BOTH = "00000000-0000-4000-8000-0000000000c1"  # a member of both tenants
OUTSIDER = "00000000-0000-4000-8000-0000000000c2"  # a member of a third tenant only
WALK_ROWS = 1000  # public.search_messages' walk over the newest messages, before the text index
PROBE_ROWS = 200  # where the walk gives up when its pace would not fill a page of 21
PER_TENANT = 2600
START = datetime(2026, 1, 1, tzinfo=UTC)

# Message i of a tenant (0 = the oldest): "boleto" in one of six, "cartão parcelado" in one of
# 97, "garantia" only in the 15 oldest (beyond the walk); "protocolo" in the five around the
# walk's probe (the 200th newest, i = 2400: the walk gives up there, its pace too slow);
# "pedido" dense in the newest 200 (the walk goes on), then only around the walk's end (the
# 1,000th newest, i = 1600) and in old messages. Every fifth message shares its time with the one
# before it (2401 with 2400, 1601 with 1600), so the id decides their order.
LOAD = """
insert into public.contacts (tenant_id, identity_key, phone_e164)
select %(tenant)s, '+55119' || lpad(k::text, 8, '0'), '+55119' || lpad(k::text, 8, '0') from generate_series(0, 51) k;
insert into public.conversations (tenant_id, instance_id, contact_id, chat_key, last_message_at)
select %(tenant)s, %(instance)s, id, identity_key, %(start)s from public.contacts where tenant_id = %(tenant)s;
insert into public.messages (tenant_id, instance_id, conversation_id, contact_id, chat_key, provider_message_id,
  direction, kind, body, occurred_at)
select c.tenant_id, c.instance_id, c.id, c.contact_id, c.chat_key, 'M' || i, 'in', 'text',
  case when i < 15 then 'a garantia cobre o defeito?' when i between 2398 and 2402 then 'meu protocolo é esse'
       when i between 1598 and 1602 or (i >= 2400 and i %% 20 = 3) or (i < 1500 and i %% 50 = 3)
         then 'cadê meu pedido'
       when i %% 6 = 0 then 'quero pagar o boleto hoje'
       when i %% 97 = 1 then 'o cartão parcelado em 3x' else 'oi tudo bem por aí' end,
  %(start)s + (i - case when i %% 5 = 1 then 1 else 0 end) * interval '1 minute' + %(shift)s
from generate_series(0, %(n)s - 1) i
join public.conversations c on c.tenant_id = %(tenant)s and c.chat_key = '+55119' || lpad((i %% 52)::text, 8, '0');
"""

QUERIES = (
    "boleto",
    "pedido",
    "garantia",
    "protocolo",
    "cartão parcelar",
    "oi -boleto",
    "defeito OR parcelado",
    "nada disso existe",
)


@pytest.fixture
def w(db_dsn: str) -> Iterator[Wired]:
    with seeded_and_wired(db_dsn) as wired:
        yield wired


@pytest.fixture
def loaded(w: Wired) -> Wired:
    """Two tenants of 2,600 messages each; the other tenant's are a day newer (a leak would come first)."""
    with psycopg.connect(w.dsn, autocommit=True) as conn:
        seed_tenant(conn, tenant_id=TENANT, name="Loja A", user_id=BOTH, email="ambas@a.local", role="agent")
        seed_tenant(conn, tenant_id=OTHER_TENANT, name="Loja B", user_id=BOTH, email="ambas@a.local", role="agent")
        seed_tenant(conn, tenant_id="00000000-0000-4000-8000-0000000000c3", name="C", user_id=OUTSIDER,
                    email="fora@c.local")  # fmt: skip
        conn.execute("set session_replication_role = replica")  # bulk rows: no realtime broadcast per row
        for tenant, instance, shift in ((TENANT, INSTANCE, "0"), (OTHER_TENANT, OTHER_INSTANCE, "1 day")):
            args = {"tenant": tenant, "instance": instance, "start": START, "shift": shift, "n": PER_TENANT}
            for statement in LOAD.split(";\n"):
                conn.execute(statement, args)
        conn.execute("analyze")
    return w


def expected(w: Wired, tenants: list[str], query: str) -> list[tuple[datetime, str]]:
    """Every match of the tenants, newest first: the plain statement, as the superuser."""
    with psycopg.connect(w.dsn) as conn:
        rows = conn.execute(
            "select occurred_at, id::text from public.messages where tenant_id = any(%s::uuid[])"
            " and to_tsvector('public.pt_unaccent'::regconfig, coalesce(body, ''))"
            " @@ websearch_to_tsquery('public.pt_unaccent', %s) order by occurred_at desc, id desc",
            (tenants, query),
        ).fetchall()
    return [(r[0], r[1]) for r in rows]


def search_pages(w: Wired, user: str, query: str, limit: int, pages: int) -> list[list[tuple[datetime, str]]]:
    """Up to ``pages`` pages as the caller (role authenticated), each after the last row of the one before."""
    found: list[list[tuple[datetime, str]]] = []
    before: tuple[datetime | None, str | None] = (None, None)
    for _ in range(pages):
        with w.db.as_user(claims(user)) as conn:
            rows = conn.execute(
                "select occurred_at, id::text as id from public.search_messages(%s, %s, %s, %s::uuid)"
                " order by occurred_at desc, id desc",
                (query, limit, *before),
            ).fetchall()
        page = [(r["occurred_at"], r["id"]) for r in rows]
        found.append(page)
        if len(page) < limit:
            break
        before = page[-1]
    return found


def newest_ids(w: Wired, tenant: str, n: int) -> set[str]:
    with psycopg.connect(w.dsn) as conn:
        rows = conn.execute(
            "select id::text from public.messages where tenant_id = %s order by occurred_at desc, id desc limit %s",
            (tenant, n),
        ).fetchall()
    return {r[0] for r in rows}


@pytest.mark.parametrize("query", QUERIES)
def test_search_pages_are_the_newest_matches_in_order_whichever_path_finds_them(loaded: Wired, query: str) -> None:
    every = expected(loaded, [TENANT], query)
    for limit in (20, 101):
        pages = search_pages(loaded, OWNER, query, limit, pages=6)
        flat = [m for page in pages for m in page]
        assert flat == every[: min(len(every), 6 * limit)], (query, limit)
        assert all(len(page) == limit for page in pages[:-1])


def test_the_data_takes_every_path(loaded: Wired) -> None:
    """What the test above covers: a first page found by the walk alone, by the text index alone,
    by both after the walk's probe, and by both after its end."""
    probed, walked = newest_ids(loaded, TENANT, PROBE_ROWS), newest_ids(loaded, TENANT, WALK_ROWS)
    matches = {q: {m[1] for m in expected(loaded, [TENANT], q)} for q in QUERIES}
    assert len(matches["boleto"] & walked) >= 101  # the walk fills even a page of 101
    assert len(matches["garantia"]) == 15 and not matches["garantia"] & walked  # the index alone
    # the walk gives up at its probe, inside a run of matches and a tie of times
    assert len(matches["protocolo"] & probed) == 3 and len(matches["protocolo"]) == 5
    # the walk goes on past its probe, ends inside a run of matches and a tie, the index does the rest
    assert len(matches["pedido"] & probed) * WALK_ROWS >= 21 * PROBE_ROWS
    assert len(matches["pedido"] & walked) < 20 and len(matches["pedido"]) > 40
    assert len(matches["cartão parcelar"] & walked) < 20
    assert not matches["nada disso existe"]


def test_search_of_a_member_of_two_tenants_merges_both_and_an_outsider_finds_nothing(loaded: Wired) -> None:
    for query in ("boleto", "garantia", "cartão parcelar"):
        both = expected(loaded, [TENANT, OTHER_TENANT], query)
        flat = [m for page in search_pages(loaded, BOTH, query, 101, pages=3) for m in page]
        assert flat == both[: len(flat)] and len(flat) == min(len(both), 303), query
        assert search_pages(loaded, OUTSIDER, query, 20, pages=1) == [[]]
    # each tenant's owner sees only their own tenant's matches
    other = {m[1] for m in expected(loaded, [OTHER_TENANT], "boleto")}
    mine = [m for page in search_pages(loaded, OWNER, "boleto", 101, pages=3) for m in page]
    assert mine and not other & {m[1] for m in mine}
    theirs = [m for page in search_pages(loaded, OTHER_OWNER, "boleto", 101, pages=1) for m in page]
    assert {m[1] for m in theirs} <= other and len(theirs) == 101


def test_search_of_stop_words_or_a_tenant_with_few_messages_is_an_ordinary_answer(loaded: Wired) -> None:
    assert search_pages(loaded, OWNER, "o a de", 20, pages=1) == [[]]  # only stop words: nothing can match
    with psycopg.connect(loaded.dsn, autocommit=True) as conn:  # fewer messages than the walk
        conn.execute("delete from public.messages where tenant_id = %s and provider_message_id <> all(%s)",
                     (TENANT, [f"M{i}" for i in range(0, 700)]))  # fmt: skip
    for query in QUERIES:
        flat = [m for page in search_pages(loaded, OWNER, query, 101, pages=10) for m in page]
        assert flat == expected(loaded, [TENANT], query), query


def test_the_reader_returns_each_hit_with_its_own_conversation(loaded: Wired) -> None:
    reader = PgInboxReader(loaded.db)
    hits = reader.search(claims(OWNER), "cartão parcelar", None, 20, datetime.now(UTC))
    with psycopg.connect(loaded.dsn) as conn:
        owners: dict[str, str] = dict(
            conn.execute("select id::text, conversation_id::text from public.messages").fetchall()
        )
    # a page of 20 and one more (the service's sign of a next page)
    assert [h.message.id for h in hits] == [m[1] for m in expected(loaded, [TENANT], "cartão parcelar")[:21]]
    assert all(owners[h.message.id] == h.conversation.id for h in hits)
    assert all("<mark>" in h.message.snippet for h in hits)


# --- unread ------------------------------------------------------------------------------------


def event(mid: str, chat: Identity, at: datetime, direction: Direction = Direction.INBOUND) -> MessageEvent:
    return MessageEvent(
        provider=Provider.EVOLUTION,
        instance="demo",
        provider_message_id=mid,
        direction=direction,
        chat=chat,
        kind=MessageKind.TEXT,
        text="olá",
        occurred_at=at,
        push_name="Cliente" if direction is Direction.INBOUND else None,
    )


def newest_inbound_mismatches(w: Wired) -> list[dict[str, Any]]:
    """Conversations whose last_inbound_at is not their newest inbound message's time."""
    with psycopg.connect(w.dsn) as conn:
        rows = conn.execute(
            "select c.id::text, c.last_inbound_at, (select max(m.occurred_at) from public.messages m"
            "  where m.conversation_id = c.id and m.direction = 'in') as newest from public.conversations c"
        ).fetchall()
    return [{"id": r[0], "stored": r[1], "newest": r[2]} for r in rows if r[1] != r[2]]


def unread_phones(w: Wired, user: str) -> set[str]:
    reader = PgInboxReader(w.db)
    now = datetime.now(UTC)
    unread = {c.contact.phone for c in reader.conversations(claims(user), InboxQuery(now=now, unread=True))}
    counted = {c.contact.phone for c in reader.conversations(claims(user), InboxQuery(now=now)) if c.unread_count}
    assert unread == counted  # the filter and the counts agree
    return {p for p in unread if p}


def conversation_id(w: Wired, phone: str) -> str:
    with psycopg.connect(w.dsn) as conn:
        row = conn.execute("select id::text from public.conversations where chat_key = %s", (phone,)).fetchone()
    assert row is not None
    return str(row[0])


def test_unread_follows_the_newest_inbound_message_and_each_users_read_mark(w: Wired) -> None:
    ana, bia, caio = (identity_from_jid(f"55119876500{n}@s.whatsapp.net") for n in (11, 12, 13))
    hour_ago = datetime.now(UTC) - timedelta(hours=1)
    # GIVEN Ana wrote, Bia only received, Caio wrote and was answered
    for mid, chat, minutes, direction in (
        ("A1", ana, 0, Direction.INBOUND),
        ("B1", bia, 1, Direction.OUTBOUND),
        ("C1", caio, 2, Direction.INBOUND),
        ("C2", caio, 3, Direction.OUTBOUND),
    ):
        assert w.store.save_message(
            TENANT, INSTANCE, event(mid, chat, hour_ago + timedelta(minutes=minutes), direction)
        ).stored
    # THEN what has an inbound message nobody read is unread, for every member
    assert unread_phones(w, OWNER) == unread_phones(w, AGENT) == {ana.phone_e164, caio.phone_e164}
    # WHEN the owner reads Ana's
    assert PgInboxReader(w.db).mark_read(claims(OWNER), conversation_id(w, str(ana.phone_e164))) is not None
    assert unread_phones(w, OWNER) == {caio.phone_e164}
    assert unread_phones(w, AGENT) == {ana.phone_e164, caio.phone_e164}
    # AND an older message of Ana's arrives late, or again: still read
    assert w.store.save_message(TENANT, INSTANCE, event("A0", ana, hour_ago - timedelta(minutes=5))).stored
    assert not w.store.save_message(TENANT, INSTANCE, event("A1", ana, hour_ago)).stored
    assert unread_phones(w, OWNER) == {caio.phone_e164}
    # AND an answer to her does not make it unread, a new message from her does
    later = datetime.now(UTC) + timedelta(minutes=5)
    assert w.store.save_message(TENANT, INSTANCE, event("A2", ana, later, Direction.OUTBOUND)).stored
    assert unread_phones(w, OWNER) == {caio.phone_e164}
    assert w.store.save_message(TENANT, INSTANCE, event("A3", ana, later + timedelta(minutes=1))).stored
    assert unread_phones(w, OWNER) == {ana.phone_e164, caio.phone_e164}
    # AND another tenant sees none of it
    assert unread_phones(w, OTHER_OWNER) == set()
    assert newest_inbound_mismatches(w) == []


def test_a_merged_conversation_keeps_the_newest_inbound_of_both(w: Wired) -> None:
    lid = "104857600000077@lid"
    earlier = datetime.now(UTC) - timedelta(hours=2)
    # GIVEN one person stored twice: by phone (an older message), by an unlinked @lid (a newer one)
    assert w.store.save_message(TENANT, INSTANCE, event("P1", identity_from_jid(MODERN_JID), earlier)).stored
    assert w.store.save_message(
        TENANT, INSTANCE, event("L1", identity_from_jid(lid), earlier + timedelta(hours=1))
    ).stored
    assert PgInboxReader(w.db).mark_read(claims(OWNER), conversation_id(w, "+5511987650001")) is not None
    # WHEN an answer on the @lid, now linked to the phone, merges them
    linked = identity_from_jid(lid, phone_hint=MODERN_JID)
    answer = event("O1", linked, earlier - timedelta(hours=1), Direction.OUTBOUND)
    assert w.store.save_message(TENANT, INSTANCE, answer).stored
    # THEN one conversation remains, with the newer inbound time: read for the owner (the mark,
    # taken after both messages, stays on the kept thread), unread for the agent
    with psycopg.connect(w.dsn) as conn:
        (row,) = conn.execute("select last_inbound_at from public.conversations where tenant_id = %s", (TENANT,))
    assert row[0] == earlier + timedelta(hours=1)
    assert newest_inbound_mismatches(w) == []
    assert unread_phones(w, OWNER) == set()
    assert unread_phones(w, AGENT) == {"+5511987650001"}


def test_a_purge_leaves_the_other_conversations_unread_state_right(w: Wired) -> None:
    now = datetime.now(UTC)
    for n, chat in enumerate((MODERN_JID, BYSTANDER_JID)):
        assert w.store.save_message(TENANT, INSTANCE, event(f"H{n}", identity_from_jid(chat), now)).stored
    assert len(unread_phones(w, OWNER)) == 2
    w.service.hide(claims(OWNER), ContactRef(phone="+5511987650001"))
    assert unread_phones(w, OWNER) == {"+5511912340002"}
    assert newest_inbound_mismatches(w) == []


def test_the_migration_backfills_the_newest_inbound_time(w: Wired) -> None:
    # GIVEN conversations stored before the column existed
    now = datetime.now(UTC)
    assert w.store.save_message(TENANT, INSTANCE, event("B1", identity_from_jid(MODERN_JID), now)).stored
    assert w.store.save_message(
        TENANT, INSTANCE, event("B2", identity_from_jid(MODERN_JID), now + timedelta(seconds=1), Direction.OUTBOUND)
    ).stored
    assert w.store.save_message(
        TENANT, INSTANCE, event("B3", identity_from_jid(BYSTANDER_JID), now, Direction.OUTBOUND)
    ).stored
    with psycopg.connect(w.dsn) as conn:
        conn.execute("alter table public.conversations drop column last_inbound_at")
        conn.execute("delete from supabase_migrations.schema_migrations where version = '20261207010100'")
    # WHEN the migration runs
    with psycopg.connect(w.dsn) as conn:
        assert apply_migrations(conn) == ["20261207010100_conversation_last_inbound.sql"]
    # THEN each conversation holds its newest inbound time (none for one with no inbound message)
    assert newest_inbound_mismatches(w) == []
    with psycopg.connect(w.dsn) as conn:
        stored: dict[str, datetime | None] = dict(
            conn.execute("select chat_key, last_inbound_at from public.conversations").fetchall()
        )
    assert stored == {"+5511987650001": now, "+5511912340002": None}
