"""Hide / unhide / erase / sweep through the privacy functions of the database.

User actions run in one transaction as ``authenticated`` with the caller's claims: the
functions check that the caller owns or administers the tenant, purge every registered
table, and write the audit, all or nothing. The sweep runs as the service role.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

import psycopg

from ponte.adapters.postgres.db import Database, retry_transaction
from ponte.domain.hidden import HiddenContact, PurgeReport, Subject
from ponte.ports.privacy import NotPrivacyAdminError, PrivacyAdmin, PurgeStore


def _report(result: Mapping[str, Any]) -> PurgeReport:
    counts = {str(k): int(v) for k, v in (result.get("counts") or {}).items()}
    return PurgeReport(counts=counts, total=int(result.get("total") or 0))


@contextmanager
def _refused_as_forbidden() -> Iterator[None]:
    try:
        yield
    except psycopg.errors.InsufficientPrivilege as exc:
        raise NotPrivacyAdminError(str(exc.diag.message_primary or "not allowed")) from exc


def _is_uuid(value: str) -> bool:
    try:
        uuid.UUID(value)
    except ValueError:
        return False
    return True


class PgPrivacyAdmin(PrivacyAdmin):
    def __init__(self, db: Database) -> None:
        self._db = db

    def contact_identity(self, claims: Mapping[str, Any], contact_id: str) -> tuple[str, str] | None:
        if not _is_uuid(contact_id):
            return None
        with self._db.as_user(claims) as conn:
            row = conn.execute(
                "select tenant_id::text, coalesce(phone_e164, identity_key) as identity"
                " from public.contacts where id = %s",
                (contact_id,),
            ).fetchone()
        return (row["tenant_id"], row["identity"]) if row else None

    def _call(self, claims: Mapping[str, Any], function: str, tenant_id: str, subject: Subject, digest: str) -> Any:
        """One purge transaction, run again when PostgreSQL chose it as a deadlock victim: it deletes
        rows that the analyze and lifecycle functions may be writing beside (an analysis of the
        contact's last message holds its message while it updates the lead the purge already took)."""

        def unit() -> Any:
            with _refused_as_forbidden(), self._db.as_user(claims) as conn:
                row = conn.execute(
                    f"select private.{function}(%s, %s, %s, %s, 'user') as r",
                    (tenant_id, subject.key, list(subject.forms), digest),
                ).fetchone()
            assert row is not None
            return row["r"]

        return retry_transaction(unit)

    def hide(
        self, claims: Mapping[str, Any], tenant_id: str, subject: Subject, subject_hash: str
    ) -> tuple[PurgeReport, tuple[str, ...]]:
        result = self._call(claims, "hide_contact", tenant_id, subject, subject_hash)
        return _report(result), tuple(result.get("identities") or ())

    def unhide(self, claims: Mapping[str, Any], tenant_id: str, subject: Subject, subject_hash: str) -> bool:
        return bool(self._call(claims, "unhide_contact", tenant_id, subject, subject_hash))

    def erase(self, claims: Mapping[str, Any], tenant_id: str, subject: Subject, subject_hash: str) -> PurgeReport:
        return _report(self._call(claims, "erase_contact", tenant_id, subject, subject_hash))

    def hidden(self, claims: Mapping[str, Any], tenant_id: str) -> list[HiddenContact]:
        with _refused_as_forbidden(), self._db.as_user(claims) as conn:
            row = conn.execute("select private.hidden_list(%s) as hidden", (tenant_id,)).fetchone()
        if row is None or row["hidden"] is None:
            return []
        subjects: dict[str, Any] = row["hidden"]["subjects"]
        grouped = {f for s in subjects.values() for f in s.get("forms", ())} | set(subjects)
        contacts = [
            HiddenContact(key=key, forms=tuple(value.get("forms", ())), hidden_at=value.get("hidden_at"))
            for key, value in sorted(subjects.items())
        ]
        contacts += [HiddenContact(key=form, forms=(form,)) for form in row["hidden"]["flat"] if form not in grouped]
        return contacts


class PgPurgeStore(PurgeStore):
    def __init__(self, db: Database) -> None:
        self._db = db

    def hidden_subjects(self, tenant_id: str | None = None) -> list[tuple[str, str]]:
        with self._db.as_service(tenant_id) as conn:
            rows = conn.execute(
                "select tenant_id::text, subject from private.hidden_subjects(%s) order by 1, 2", (tenant_id,)
            ).fetchall()
        return [(r["tenant_id"], r["subject"]) for r in rows]

    def sweep(self, tenant_id: str, subject: str, subject_hash: str, actor: str) -> PurgeReport:
        def unit() -> Any:
            with self._db.as_service(tenant_id) as conn:
                row = conn.execute(
                    "select private.sweep_hidden_subject(%s, %s, %s, %s) as r",
                    (tenant_id, subject, subject_hash, actor),
                ).fetchone()
            assert row is not None
            return row["r"]

        return _report(retry_transaction(unit))
