"""The webhook quarantine table and the per-instance signing key on real PostgreSQL, with RLS."""

from __future__ import annotations

from collections.abc import Iterator

import psycopg
import pytest

from ponte.adapters.postgres.db import Database
from ponte.adapters.postgres.instances import PgInstanceDirectory
from ponte.adapters.postgres.quarantine import PgQuarantineStore
from ponte.domain.quarantine import QuarantineEntry
from ponte.localstack.seed import seed_tenant

pytestmark = pytest.mark.integration

TENANT = "00000000-0000-4000-8000-0000000004a1"
OWNER = "00000000-0000-4000-8000-0000000004a2"
AGENT = "00000000-0000-4000-8000-0000000004a4"
INSTANCE = "00000000-0000-4000-8000-0000000004a3"
OTHER_TENANT = "00000000-0000-4000-8000-0000000004b1"
OTHER_USER = "00000000-0000-4000-8000-0000000004b2"


@pytest.fixture
def db(db_dsn: str) -> Iterator[Database]:
    with psycopg.connect(db_dsn) as conn:
        seed_tenant(
            conn, tenant_id=TENANT, name="T", user_id=OWNER, email="o@t.local", instance_id=INSTANCE, webhook_secret="x"
        )
        seed_tenant(conn, tenant_id=TENANT, name="T", user_id=AGENT, email="a@t.local", role="agent")
        seed_tenant(conn, tenant_id=OTHER_TENANT, name="O", user_id=OTHER_USER, email="b@o.local")
    database = Database(db_dsn, max_size=2)
    try:
        yield database
    finally:
        database.close()


def entry(body: bytes = b'{"event": "messages.upsert"}') -> QuarantineEntry:
    return QuarantineEntry.capped(
        body, tenant_id=TENANT, instance_id=INSTANCE, provider="evolution", reason_code="bad_timestamp"
    )


def test_quarantine_round_trip_and_replay_mark(db: Database) -> None:
    store = PgQuarantineStore(db)
    store.put(entry())
    store.put(entry(b"\x00 nul bytes are kept readable"))
    pending = store.pending()
    assert [p.reason_code for p in pending] == ["bad_timestamp", "bad_timestamp"]
    assert pending[1].raw_payload.endswith("nul bytes are kept readable")
    store.mark_replayed(pending[0].id, "accepted", None)
    assert [p.id for p in store.pending()] == [pending[1].id]
    assert store.pending(tenant_id=OTHER_TENANT) == []


def test_only_admins_of_the_tenant_read_the_quarantine_and_nobody_writes_it(db: Database) -> None:
    PgQuarantineStore(db).put(entry())
    read = "select count(*) as n from public.webhook_quarantine"
    with db.as_user({"sub": OWNER, "role": "authenticated"}) as conn:
        assert conn.execute(read).fetchone()["n"] == 1
    with db.as_user({"sub": AGENT, "role": "authenticated"}) as conn:
        assert conn.execute(read).fetchone()["n"] == 0
    with db.as_user({"sub": OTHER_USER, "role": "authenticated"}) as conn:
        assert conn.execute(read).fetchone()["n"] == 0
    with pytest.raises(psycopg.errors.InsufficientPrivilege), db.as_user({"sub": OWNER, "role": "authenticated"}) as c:
        c.execute(
            "insert into public.webhook_quarantine (tenant_id, provider, reason_code, raw_payload, payload_bytes)"
            " values (%s, 'evolution', 'x', '{}', 2)",
            (TENANT,),
        )


def test_signing_key_is_read_by_the_service_and_invisible_to_users(db: Database) -> None:
    directory = PgInstanceDirectory(db)
    found = directory.find(INSTANCE)
    assert found is not None and found.hmac_key is None
    with db.as_service() as conn:
        conn.execute(
            "insert into private.instance_webhook_signing (instance_id, hmac_key, header_name) values (%s, %s, %s)",
            (INSTANCE, "s" * 32, "x-hub-signature-256"),
        )
    found = directory.find(INSTANCE)
    assert found is not None and found.hmac_key is not None
    assert found.hmac_key.get_secret_value() == "s" * 32
    assert found.signature_header == "x-hub-signature-256"
    assert found.signature_scheme == "hmac-sha256"
    assert "s" * 32 not in repr(found)
    with db.as_service() as conn:
        conn.execute(
            "update private.instance_webhook_signing set scheme = 'evolution-jwt' where instance_id = %s", (INSTANCE,)
        )
    found = directory.find(INSTANCE)
    assert found is not None and found.signature_scheme == "evolution-jwt"
    with pytest.raises(psycopg.errors.InsufficientPrivilege), db.as_user({"sub": OWNER, "role": "authenticated"}) as c:
        c.execute("select * from private.instance_webhook_signing")
