"""An admin reads the login code while a scan is awaited, whatever the gateway's status says
meanwhile (a status check moves a fresh session from qr_pending to connecting within a second);
once connected, or with no scan awaited, no code is shown."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from ponte.adapters.postgres.db import Database
from ponte.adapters.postgres.sessions import PgSessionStore
from tests.integration.helpers import seeded_database

pytestmark = pytest.mark.integration

TENANT = "00000000-0000-4000-8000-0000000008a1"
OWNER = "00000000-0000-4000-8000-0000000008a2"
INSTANCE = "00000000-0000-4000-8000-0000000008a3"
CLAIMS = {"sub": OWNER, "role": "authenticated"}


@pytest.fixture
def db(db_dsn: str) -> Iterator[Database]:
    with seeded_database(db_dsn, tenant_id=TENANT, user_id=OWNER, instance_id=INSTANCE) as database:
        with database.as_service(TENANT) as conn:
            conn.execute(
                "insert into public.instance_qr_codes (instance_id, tenant_id, qr_code, pairing_code)"
                " values (%s, %s, '2@code', 'ABCD-EFGH')",
                (INSTANCE, TENANT),
            )
        yield database


def given(db: Database, status: str, phase: str) -> None:
    with db.as_service(TENANT) as conn:
        conn.execute("update public.whatsapp_instances set status = %s where id = %s", (status, INSTANCE))
        conn.execute(
            "insert into public.instance_sessions (instance_id, tenant_id, state) values (%s, %s, %s)"
            " on conflict (instance_id) do update set state = excluded.state",
            (INSTANCE, TENANT, f'{{"phase": "{phase}"}}'),
        )


@pytest.mark.parametrize(
    ("status", "phase", "shown"),
    [
        ("qr_pending", "awaiting_qr", True),
        ("connecting", "awaiting_qr", True),  # the status check moved on; the scan is still awaited
        ("disconnected", "awaiting_qr", True),
        ("qr_pending", "healthy", True),
        ("connected", "awaiting_qr", False),  # scanned: the code is spent
        ("connecting", "reconnecting", False),
    ],
)
def test_the_code_is_shown_while_a_scan_is_awaited(db: Database, status: str, phase: str, shown: bool) -> None:
    given(db, status, phase)
    view = PgSessionStore(db).view(CLAIMS, INSTANCE)
    assert (view["qr"] is not None) is shown, view
    if shown:
        assert (view["qr"]["qr_code"], view["qr"]["pairing_code"]) == ("2@code", "ABCD-EFGH")
