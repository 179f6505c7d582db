"""Hide, unhide, erase and sweep on real PostgreSQL: every alias, every table, one tenant only."""

from __future__ import annotations

import json
from collections.abc import Iterator

import psycopg
import pytest

from ponte.adapters.postgres.privacy import PgPrivacySettings
from ponte.domain.hidden import ContactRef, subject_hash
from ponte.domain.identity import identity_from_jid
from ponte.services.exceptions import BadRequestError, ForbiddenError
from tests.support.privacy import (
    ADMIN,
    AGENT,
    AUDIT_KEY,
    BYSTANDER_JID,
    INSTANCE,
    LEGACY_JID,
    LID,
    MODERN_JID,
    OTHER_INSTANCE,
    OTHER_OWNER,
    OTHER_TENANT,
    OWNER,
    PHONE,
    TENANT,
    Wired,
    claims,
    contact_rows,
    every_form,
    message,
    seeded_and_wired,
)

pytestmark = pytest.mark.integration


@pytest.fixture
def w(db_dsn: str) -> Iterator[Wired]:
    with seeded_and_wired(db_dsn) as wired:
        yield wired


def ingest_everywhere(w: Wired) -> None:
    """The person writes to both tenants under every form; a bystander writes to tenant A."""
    for n, chat in enumerate(every_form()):
        assert w.store.save_message(TENANT, INSTANCE, message(f"A{n}", chat)).stored
        assert w.store.save_message(OTHER_TENANT, OTHER_INSTANCE, message(f"B{n}", chat)).stored
    assert w.store.save_message(TENANT, INSTANCE, message("X1", identity_from_jid(BYSTANDER_JID))).stored
    with psycopg.connect(w.dsn) as conn:
        conn.execute(
            "insert into public.customers (tenant_id, external_id, name, phone_e164) values (%s, 'erp-1', 'F', %s)",
            (TENANT, PHONE),
        )
        conn.execute(
            "insert into public.proxy_diagnostics (tenant_id, route, outcome, detail) values"
            " (%s, 'r', 'rejected', %s), (%s, 'r', 'accepted', %s)",
            (TENANT, json.dumps({"chat": LEGACY_JID}), TENANT, json.dumps({"provider": "evolution"})),
        )
        for jid in (LID, BYSTANDER_JID):  # a raw payload of the person (by @lid) and one of a bystander
            conn.execute(
                "insert into public.webhook_quarantine (tenant_id, provider, reason_code, raw_payload, payload_bytes)"
                " values (%s, 'evolution', 'missing_key', %s, 10)",
                (TENANT, json.dumps({"data": {"key": {"remoteJid": jid}}})),
            )


def test_hide_deletes_every_trace_across_aliases_in_that_tenant_only(w: Wired) -> None:
    # GIVEN the person's messages under three forms in two tenants
    ingest_everywhere(w)
    before = contact_rows(w, TENANT)
    assert before["messages"] == 3 and before["contact_aliases"] == 3 and before["contacts"] == 1
    with psycopg.connect(w.dsn) as conn:
        contact_id, conversations = conn.execute(
            "select c.id::text, array_agg(v.id::text) from public.contacts c"
            " join public.conversations v on v.contact_id = c.id where c.tenant_id = %s and c.phone_e164 = %s"
            " group by c.id",
            (TENANT, PHONE),
        ).fetchone()  # type: ignore[misc]
        message_id = conn.execute(
            "select id from public.messages where contact_id = %s limit 1", (contact_id,)
        ).fetchone()[0]  # type: ignore[index]
        analysis = conn.execute(
            "insert into public.message_analyses (tenant_id, message_id, conversation_id, sentiment, sentiment_score,"
            " intent, intent_confidence, urgency, labels_source, model, score, score_parts, priority, sla_due_at)"
            " select tenant_id, id, conversation_id, 'neutral', 0, 'greeting', 0.9, 'low', 'worker', 'm', 10, '{}',"
            " 'low', now() from public.messages where id = %s returning id",
            (message_id,),
        ).fetchone()[0]  # type: ignore[index]
        conn.execute(
            "insert into public.reply_suggestions (tenant_id, message_id, conversation_id, analysis_id, text, source,"
            " model) select tenant_id, id, conversation_id, %s, 'Olá, Fulano!', 'template', 'm'"
            " from public.messages where id = %s",
            (analysis, message_id),
        )
    realtime_sql = (
        "select count(*) from realtime.messages where payload ->> 'contact_id' = %s"
        " or payload ->> 'conversation_id' = any(%s) or topic = any(%s)"
    )
    topics = [f"conversation:{c}" for c in conversations]
    assert w.count(realtime_sql, contact_id, conversations, topics) > 0
    assert w.count("select count(*) from public.leads where contact_id = %s", contact_id) == 1
    # WHEN the owner of tenant A hides them by the typed national number
    result = w.service.hide(claims(OWNER), ContactRef(phone="(11) 98765-0001"))
    # THEN nothing of them remains in A, tenant B and the bystander are untouched
    assert result.contact == PHONE and result.tenant_id == TENANT
    assert set(contact_rows(w, TENANT).values()) == {0}
    assert contact_rows(w, OTHER_TENANT)["messages"] == 3
    assert w.count("select count(*) from public.messages where tenant_id = %s", TENANT) == 1
    assert w.count("select count(*) from public.customers where tenant_id = %s", TENANT) == 0
    assert w.count("select count(*) from public.proxy_diagnostics where tenant_id = %s", TENANT) == 1
    counts = result.deleted.counts
    assert counts["public.messages"] == 3
    assert counts["public.contacts"] == 1
    assert counts["public.contact_aliases"] >= 3  # the three JIDs (and the key, as the store records it)
    assert counts["public.customers"] == 1
    assert counts["public.proxy_diagnostics"] == 1
    assert counts["public.leads"] == 1
    assert counts["public.webhook_quarantine"] == 1
    assert w.count("select count(*) from public.webhook_quarantine where tenant_id = %s", TENANT) == 1
    assert counts["public.message_analyses"] == 1 and counts["public.reply_suggestions"] == 1
    assert counts["realtime.messages"] > 0
    assert w.count(realtime_sql, contact_id, conversations, topics) == 0
    assert w.count("select count(*) from realtime.messages where payload::text like '%%Fulano%%'") == 0
    assert result.deleted.total == sum(counts.values())


def test_hidden_list_holds_every_form_and_the_gates_drop_them(w: Wired) -> None:
    ingest_everywhere(w)
    w.service.hide(claims(ADMIN), ContactRef(jid=LEGACY_JID))
    listed = w.service.hidden(claims(OWNER), None)
    assert [c.key for c in listed.contacts] == [PHONE]
    forms = set(listed.contacts[0].forms)
    assert {PHONE, MODERN_JID, LEGACY_JID, LID, "5511987650001@c.us"} <= forms
    # the intake gate (proxy) sees every form as hidden, the @lid learned from the aliases included
    gate = PgPrivacySettings(w.db)
    for form in (PHONE, MODERN_JID, LEGACY_JID, LID):
        assert gate.is_hidden(TENANT, [form]), form
    assert not gate.is_hidden(OTHER_TENANT, [PHONE])
    # the store refuses, inside its transaction, every form, the bare @lid included
    for n, chat in enumerate([*every_form(), identity_from_jid(LID)]):
        assert w.store.save_message(TENANT, INSTANCE, message(f"late{n}", chat)).stored is False
    assert set(contact_rows(w, TENANT).values()) == {0}
    # tenant B still stores the person
    assert w.store.save_message(OTHER_TENANT, OTHER_INSTANCE, message("B9", every_form()[0])).stored


def test_audit_records_who_when_counts_and_a_keyed_hash_never_the_number(w: Wired) -> None:
    ingest_everywhere(w)
    w.service.hide(claims(OWNER), ContactRef(phone=PHONE))
    with psycopg.connect(w.dsn) as conn:
        rows = conn.execute(
            "select action, actor_user_id::text, actor, subject_hash, counts, total, occurred_at"
            " from public.privacy_audit where tenant_id = %s",
            (TENANT,),
        ).fetchall()
    assert len(rows) == 1
    action, actor_id, actor, digest, counts, total, occurred_at = rows[0]
    assert (action, actor_id, actor) == ("hide", OWNER, "user")
    assert digest == subject_hash(AUDIT_KEY, PHONE)
    assert counts["public.messages"] == 3 and total >= 8 and occurred_at is not None
    text = json.dumps([str(v) for v in rows[0]])
    for needle in ("5511987650001", "551187650001", "87650001", "123456789012345", "oi, tudo bem"):
        assert needle not in text


def test_only_owners_and_admins_hide_and_read_the_list(w: Wired) -> None:
    ingest_everywhere(w)
    with pytest.raises(ForbiddenError):
        w.service.hide(claims(AGENT), ContactRef(phone=PHONE))
    with pytest.raises(ForbiddenError):
        w.service.hidden(claims(AGENT), TENANT)
    # an owner of another tenant naming tenant A
    with pytest.raises(ForbiddenError):
        w.service.hide(claims(OTHER_OWNER), ContactRef(phone=PHONE, tenant_id=TENANT))
    assert contact_rows(w, TENANT)["messages"] == 3


def test_the_database_refuses_a_hide_from_an_agent_even_past_the_service(w: Wired) -> None:
    ingest_everywhere(w)
    with pytest.raises(psycopg.errors.InsufficientPrivilege), w.db.as_user(claims(AGENT)) as conn:
        conn.execute("select private.hide_contact(%s, %s, %s, 'h')", (TENANT, PHONE, [PHONE]))
    with pytest.raises(psycopg.errors.InsufficientPrivilege), w.db.as_user(claims(OWNER)) as conn:
        conn.execute("select private.purge_contact_data(%s, %s)", (TENANT, [PHONE]))
    assert contact_rows(w, TENANT)["messages"] == 3


def test_unhide_lets_the_person_back_in(w: Wired) -> None:
    ingest_everywhere(w)
    w.service.hide(claims(OWNER), ContactRef(phone=PHONE))
    result = w.service.unhide(claims(ADMIN), ContactRef(jid=MODERN_JID))
    assert result.was_hidden is True
    assert w.service.hidden(claims(OWNER), TENANT).contacts == ()
    assert w.store.save_message(TENANT, INSTANCE, message("back", identity_from_jid(LID))).stored
    assert w.service.unhide(claims(ADMIN), ContactRef(phone=PHONE)).was_hidden is False
    with psycopg.connect(w.dsn) as conn:
        actions = [r[0] for r in conn.execute("select action from public.privacy_audit order by id")]
    assert actions == ["hide", "unhide"]


def test_erase_purges_by_contact_id_without_hiding(w: Wired) -> None:
    ingest_everywhere(w)
    with psycopg.connect(w.dsn) as conn:
        contact_id = conn.execute(
            "select id::text from public.contacts where tenant_id = %s and phone_e164 = %s", (TENANT, PHONE)
        ).fetchone()[0]  # type: ignore[index]
    result = w.service.erase(claims(ADMIN), ContactRef(contact_id=contact_id))
    assert result.action == "erase" and result.deleted.counts["public.messages"] == 3
    assert set(contact_rows(w, TENANT).values()) == {0}
    assert w.service.hidden(claims(OWNER), TENANT).contacts == ()
    # not hidden: the person may write again
    assert w.store.save_message(TENANT, INSTANCE, message("again", every_form()[0])).stored


def test_bad_references_are_clear_errors(w: Wired) -> None:
    with pytest.raises(BadRequestError) as exc:
        w.service.hide(claims(OWNER), ContactRef(phone="12"))
    assert exc.value.code == "invalid_contact"
    with pytest.raises(BadRequestError):
        w.service.hide(claims(OWNER), ContactRef(jid="120363025246125486@g.us"))


def test_sweep_purges_what_slipped_past_the_guard(w: Wired) -> None:
    ingest_everywhere(w)
    w.service.hide(claims(OWNER), ContactRef(phone=PHONE))
    # GIVEN a writer without the guard stores the person again (as an in-flight message would)
    with psycopg.connect(w.dsn) as conn:
        conn.execute(
            "insert into public.contacts (id, tenant_id, identity_key, phone_e164)"
            " values ('00000000-0000-4000-8000-00000000ff01', %s, %s, %s)",
            (TENANT, PHONE, PHONE),
        )
        conv = conn.execute(
            "insert into public.conversations (tenant_id, instance_id, contact_id, chat_key)"
            " values (%s, %s, '00000000-0000-4000-8000-00000000ff01', %s) returning id",
            (TENANT, INSTANCE, PHONE),
        ).fetchone()[0]  # type: ignore[index]
        conn.execute(
            "insert into public.messages (tenant_id, instance_id, conversation_id, contact_id, chat_key,"
            " provider_message_id, direction, kind, body, occurred_at)"
            " values (%s, %s, %s, '00000000-0000-4000-8000-00000000ff01', %s, 'slip', 'in', 'text', 'x', now())",
            (TENANT, INSTANCE, conv, PHONE),
        )
    # WHEN the sweep runs THEN it is gone, and audited as a sweep
    result = w.service.sweep(actor="schedule")
    assert result.subjects == 1
    assert result.deleted.counts["public.messages"] == 1
    assert set(contact_rows(w, TENANT).values()) == {0}
    assert w.service.sweep().deleted.total == 0  # nothing left: no new audit row
    with psycopg.connect(w.dsn) as conn:
        actions = [r[0] for r in conn.execute("select action from public.privacy_audit order by id")]
    assert actions == ["hide", "sweep"]


def dangling_references(dsn: str) -> list[str]:
    """Every single-column foreign key in public and realtime whose rows point at nothing."""
    found = []
    with psycopg.connect(dsn) as conn:
        fks = conn.execute(
            "select c.conrelid::regclass::text, a.attname, c.confrelid::regclass::text, b.attname"
            " from pg_constraint c"
            " join pg_attribute a on a.attrelid = c.conrelid and a.attnum = c.conkey[1]"
            " join pg_attribute b on b.attrelid = c.confrelid and b.attnum = c.confkey[1]"
            " join pg_namespace n on n.oid = (select relnamespace from pg_class where oid = c.conrelid)"
            " where c.contype = 'f' and cardinality(c.conkey) = 1 and n.nspname in ('public', 'realtime')"
        ).fetchall()
        for child, col, parent, pcol in fks:
            row = conn.execute(
                f"select count(*) from {child} x where x.{col} is not null"
                f" and not exists (select 1 from {parent} p where p.{pcol} = x.{col})"
            ).fetchone()
            if row and row[0]:
                found.append(f"{child}.{col} -> {parent}")
    return found


def test_the_fast_delete_leaves_no_dangling_reference(w: Wired) -> None:
    ingest_everywhere(w)
    result = w.service.hide(claims(OWNER), ContactRef(phone=PHONE))
    assert result.deleted.counts["public.messages"] == 3
    assert dangling_references(w.dsn) == []


def test_an_unregistered_reference_makes_the_purge_fall_back_to_the_ordinary_delete(w: Wired) -> None:
    # GIVEN a table (not in the registry) whose rows reference the person's messages
    ingest_everywhere(w)
    with psycopg.connect(w.dsn) as conn:
        conn.execute(
            "create table public.message_notes (message_id uuid references public.messages (id) on delete cascade)"
        )
        conn.execute(
            "insert into public.message_notes select m.id from public.messages m"
            " join public.contacts c on c.id = m.contact_id where c.tenant_id = %s and c.phone_e164 = %s",
            (TENANT, PHONE),
        )
    # WHEN the person is hidden THEN the fast path sees the reference and the ordinary delete cascades
    result = w.service.hide(claims(OWNER), ContactRef(phone=PHONE))
    assert result.deleted.counts["public.messages"] == 3
    assert w.count("select count(*) from public.message_notes") == 0
    assert dangling_references(w.dsn) == []
