"""``ponte purge``: the sweep on demand from the command line."""

from __future__ import annotations

import json
from collections.abc import Iterator

import psycopg
import pytest

from ponte.cli.main import main
from ponte.domain.hidden import ContactRef
from tests.support.privacy import OWNER, PHONE, TENANT, Wired, claims, seeded_and_wired

pytestmark = pytest.mark.integration


@pytest.fixture
def w(db_dsn: str) -> Iterator[Wired]:
    with seeded_and_wired(db_dsn) as wired:
        yield wired


def test_cli_sweeps_and_reports_counts_only(
    w: Wired, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    w.service.hide(claims(OWNER), ContactRef(phone=PHONE))
    with psycopg.connect(w.dsn) as conn:
        conn.execute(
            "insert into public.contacts (tenant_id, identity_key, phone_e164) values (%s, %s, %s)",
            (TENANT, PHONE, PHONE),
        )
    monkeypatch.setenv("DATABASE_URL", w.dsn)
    monkeypatch.setenv("PONTE_AUDIT_HASH_KEY", "cli-audit-key-for-the-test")
    monkeypatch.delenv("PONTE_APP_SECRET_NAME", raising=False)
    assert main(["purge", "--tenant", TENANT]) == 0
    out = capsys.readouterr().out
    report = json.loads(out.strip().splitlines()[-1])
    assert report["subjects"] == 1 and report["deleted"]["public.contacts"] == 1
    assert "5511987650001" not in out
    assert w.count("select count(*) from public.contacts where phone_e164 = %s", PHONE) == 0


def test_cli_without_an_audit_key_refuses(monkeypatch: pytest.MonkeyPatch, db_dsn: str) -> None:
    monkeypatch.setenv("DATABASE_URL", db_dsn)
    monkeypatch.delenv("PONTE_AUDIT_HASH_KEY", raising=False)
    monkeypatch.delenv("PONTE_APP_SECRET_NAME", raising=False)
    assert main(["purge"]) == 2
