"""Hide mode ("Ocultar do CRM"), unhide, erasure on request, and the sweep of hidden contacts.

User actions run under the caller's claims (the store authorizes owners and admins of the
tenant); the sweep runs as the service. The audit gets a keyed hash of the subject, never
the number.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from typing import Any

from ponte.domain.accounts import Membership
from ponte.domain.hidden import (
    ContactRef,
    HiddenList,
    HideResult,
    InvalidContactError,
    PrivacyAction,
    PurgeReport,
    Subject,
    SweepResult,
    UnhideResult,
    merge_reports,
    subject_hash,
    subject_of,
)
from ponte.ports.accounts import MembershipReader
from ponte.ports.privacy import NotPrivacyAdminError, PrivacyAdmin, PurgeStore
from ponte.services.exceptions import BadRequestError, ForbiddenError, NotFoundError

logger = logging.getLogger(__name__)

ADMIN_ROLES = frozenset({"owner", "admin"})


class PrivacyService:
    def __init__(
        self,
        *,
        admin: PrivacyAdmin,
        purge: PurgeStore,
        memberships: MembershipReader,
        audit_key: bytes,
        on_change: Callable[[str], None] | None = None,
        after_purge: Callable[[], int] | None = None,
    ) -> None:
        """``on_change(tenant_id)``: after a hide, unhide or erasure committed (a cache of the
        tenant's hidden list drops its copy before the call returns)."""
        if not audit_key:
            raise ValueError("the audit hash key is required")
        self._after_purge = after_purge
        self._admin = admin
        self._purge = purge
        self._memberships = memberships
        self._key = audit_key
        self._on_change = on_change

    def _changed(self, tenant_id: str) -> None:
        if self._on_change is not None:
            self._on_change(tenant_id)

    def hide(self, claims: Mapping[str, Any], ref: ContactRef) -> HideResult:
        tenant_id, subject = self._target(claims, ref)
        try:
            report, forms = self._admin.hide(claims, tenant_id, subject, subject_hash(self._key, subject.key))
        except NotPrivacyAdminError as exc:
            raise _forbidden() from exc
        self._changed(tenant_id)
        self._empty_trash()
        return HideResult(
            tenant_id=tenant_id, contact=subject.key, action=PrivacyAction.HIDE, hidden_forms=len(forms), deleted=report
        )

    def unhide(self, claims: Mapping[str, Any], ref: ContactRef) -> UnhideResult:
        tenant_id, subject = self._target(claims, ref)
        try:
            was_hidden = self._admin.unhide(claims, tenant_id, subject, subject_hash(self._key, subject.key))
        except NotPrivacyAdminError as exc:
            raise _forbidden() from exc
        self._changed(tenant_id)
        return UnhideResult(tenant_id=tenant_id, contact=subject.key, was_hidden=was_hidden)

    def erase(self, claims: Mapping[str, Any], ref: ContactRef) -> HideResult:
        tenant_id, subject = self._target(claims, ref)
        try:
            report = self._admin.erase(claims, tenant_id, subject, subject_hash(self._key, subject.key))
        except NotPrivacyAdminError as exc:
            raise _forbidden() from exc
        self._changed(tenant_id)
        self._empty_trash()
        return HideResult(tenant_id=tenant_id, contact=subject.key, action=PrivacyAction.ERASE, deleted=report)

    def hidden(self, claims: Mapping[str, Any], tenant_id: str | None) -> HiddenList:
        tenant = self._admin_tenant(claims, tenant_id)
        return HiddenList(tenant_id=tenant, contacts=tuple(self._admin.hidden(claims, tenant)))

    def sweep(self, tenant_id: str | None = None, *, actor: str = "schedule") -> SweepResult:
        """Purge what slipped in for every hidden subject (of one tenant, or of all)."""
        reports: list[PurgeReport] = []
        subjects = self._purge.hidden_subjects(tenant_id)
        for tenant, subject in subjects:
            reports.append(self._purge.sweep(tenant, subject, subject_hash(self._key, subject), actor))
        if subjects:
            self._empty_trash()
        return SweepResult(subjects=len(subjects), deleted=merge_reports(reports))

    def _empty_trash(self) -> None:
        """The purged files' objects go now; a failure leaves them to the media trash schedule."""
        if self._after_purge is None:
            return
        try:
            self._after_purge()
        except Exception:
            logger.warning("media objects not deleted yet: the media trash schedule retries", exc_info=True)

    def _target(self, claims: Mapping[str, Any], ref: ContactRef) -> tuple[str, Subject]:
        if ref.contact_id:
            found = self._admin.contact_identity(claims, ref.contact_id)
            if found is None:
                raise NotFoundError("contact not found", code="contact_not_found")
            tenant_id, identity = found
            if ref.tenant_id and ref.tenant_id != tenant_id:
                raise NotFoundError("contact not found", code="contact_not_found")
            return self._admin_tenant(claims, tenant_id), _subject(identity)
        return self._admin_tenant(claims, ref.tenant_id), _subject(ref.phone or ref.jid or "")

    def _admin_tenant(self, claims: Mapping[str, Any], tenant_id: str | None) -> str:
        """The tenant the caller acts on: the one named, or their only owner/admin tenant."""
        admin_of = [m for m in self._memberships.memberships(claims) if m.role in ADMIN_ROLES]
        if tenant_id is None:
            if len(admin_of) == 1:
                return admin_of[0].tenant_id
            if not admin_of:
                raise _forbidden()
            raise BadRequestError("the caller administers several tenants: give tenant_id", code="tenant_required")
        if not _is_member(admin_of, tenant_id):
            raise _forbidden()
        return tenant_id


def _is_member(memberships: list[Membership], tenant_id: str) -> bool:
    return any(m.tenant_id == tenant_id for m in memberships)


def _subject(value: str) -> Subject:
    try:
        return subject_of(value)
    except InvalidContactError as exc:
        raise BadRequestError(str(exc), code="invalid_contact") from exc


def _forbidden() -> ForbiddenError:
    return ForbiddenError("only owners and admins of the tenant manage hidden contacts", code="not_privacy_admin")
