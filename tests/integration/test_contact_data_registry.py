"""The purge registry covers every table (public, private, and realtime.messages): a table that
can hold a contact's traces and is not registered with a predicate fails here, so later tables
cannot be forgotten.

To register a table, add to its migration:
    insert into private.contact_data (relation, predicate, purge_order)
    values ('public.my_table', 'tenant_id = $1 and contact_id = any($2)', 15);
or, for a table with no contact data:
    insert into private.contact_data (relation, exempt_reason) values ('public.my_table', 'why');
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import psycopg
import pytest

pytestmark = pytest.mark.integration

# Column names that mean "this table can hold something about a person".
CONTACT_COLUMNS = frozenset(
    {
        "contact_id", "conversation_id", "message_id", "lead_id", "customer_id", "phone", "phone_e164",
        "phone_raw", "jid", "lid", "chat_key", "identity_key", "alias", "body", "text", "payload",
        "raw", "raw_payload", "raw_body", "detail", "content", "push_name", "display_name",
    }
)  # fmt: skip
# Exemptions despite such columns, each with its reason.
ALLOWED_EXEMPT: dict[str, str] = {
    "public.tenants": "the hidden list itself lives in settings",
}


@dataclass
class Coverage:
    unregistered: list[str]
    dangling: list[str]
    exempt_with_contact_columns: list[str]
    unscoped: list[str]


def coverage(conn: psycopg.Connection) -> Coverage:
    tables = {
        r[0]: set(r[1])
        for r in conn.execute(
            "select n.nspname || '.' || c.relname,"
            " array(select a.attname::text from pg_attribute a where a.attrelid = c.oid and a.attnum > 0"
            "       and not a.attisdropped)"
            " from pg_class c join pg_namespace n on n.oid = c.relnamespace"
            " where c.relkind in ('r', 'p') and not c.relispartition"
            " and (n.nspname in ('public', 'private') or (n.nspname = 'realtime' and c.relname = 'messages'))"
        )
    }
    registry = {
        r[0]: (r[1], r[2]) for r in conn.execute("select relation, predicate, exempt_reason from private.contact_data")
    }
    return Coverage(
        unregistered=sorted(set(tables) - set(registry)),
        dangling=sorted(set(registry) - set(tables)),
        exempt_with_contact_columns=sorted(
            name
            for name, (predicate, _) in registry.items()
            if predicate is None and name in tables and tables[name] & CONTACT_COLUMNS and name not in ALLOWED_EXEMPT
        ),
        # every predicate is scoped to the tenant ($1) or to ids resolved within it ($2, $4)
        unscoped=sorted(n for n, (p, _) in registry.items() if p is not None and not re.search(r"\$[124]\b", p)),
    )


def test_every_table_is_registered_for_the_purge(db_dsn: str) -> None:
    with psycopg.connect(db_dsn) as conn:
        found = coverage(conn)
    assert found.unregistered == [], "register these tables in private.contact_data (see this module's docstring)"
    assert found.dangling == []
    assert found.exempt_with_contact_columns == [], "these tables hold contact data: give them a purge predicate"
    assert found.unscoped == []


def test_a_new_table_with_contact_data_is_caught(db_dsn: str) -> None:
    with psycopg.connect(db_dsn) as conn:
        conn.execute("create table public.lead_notes (tenant_id uuid, contact_id uuid, note text)")
        assert coverage(conn).unregistered == ["public.lead_notes"]
        conn.execute(
            "insert into private.contact_data (relation, exempt_reason) values ('public.lead_notes', 'not really')"
        )
        assert coverage(conn).exempt_with_contact_columns == ["public.lead_notes"]
        conn.rollback()


def test_every_predicate_runs(db_dsn: str) -> None:
    """The purge executes every registered predicate; a typo or a missing column fails here."""
    with psycopg.connect(db_dsn) as conn:
        conn.execute("insert into public.tenants (id, name) values ('00000000-0000-4000-8000-0000000000e1', 'E')")
        result = conn.execute(
            "select private.purge_contact_data('00000000-0000-4000-8000-0000000000e1', %s)",
            (["+5511987650001", "123@lid"],),
        ).fetchone()[0]  # type: ignore[index]
        registered = {
            r[0] for r in conn.execute("select relation from private.contact_data where predicate is not null")
        }
        assert set(result["counts"]) == registered
        assert result["total"] == 0
        conn.rollback()
