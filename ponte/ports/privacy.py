from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ponte.domain.hidden import HiddenContact, PurgeReport, Subject
from ponte.domain.privacy import PrivacyPolicy


@dataclass(frozen=True)
class TenantPrivacy:
    """What the intake gate reads of a tenant: its policy and every form on its hidden list."""

    policy: PrivacyPolicy
    hidden: frozenset[str]


class PrivacySettings(ABC):
    """A tenant's intake policy and hidden contacts."""

    @abstractmethod
    def policy(self, tenant_id: str) -> PrivacyPolicy: ...

    @abstractmethod
    def hidden_among(self, tenant_id: str, identities: Sequence[str]) -> frozenset[str]:
        """Those of the identities (E.164, JID, @lid) that are on the tenant's hidden list: one
        look-up for every identity a webhook names, however many events it carries."""

    def is_hidden(self, tenant_id: str, identities: Sequence[str]) -> bool:
        """True when any of the identities is on the tenant's hidden list."""
        return bool(self.hidden_among(tenant_id, identities))


class NotPrivacyAdminError(Exception):
    """The caller is not an owner or admin of the tenant (the store refused)."""


class PrivacyAdmin(ABC):
    """Hide / unhide / erase under the caller's claims: one transaction each, authorized by the store."""

    @abstractmethod
    def contact_identity(self, claims: Mapping[str, Any], contact_id: str) -> tuple[str, str] | None:
        """(tenant id, identity key) of a contact the caller can see, or None."""

    @abstractmethod
    def hide(
        self, claims: Mapping[str, Any], tenant_id: str, subject: Subject, subject_hash: str
    ) -> tuple[PurgeReport, tuple[str, ...]]:
        """Purge every trace now and put every form on the hidden list; returns the report and the forms."""

    @abstractmethod
    def unhide(self, claims: Mapping[str, Any], tenant_id: str, subject: Subject, subject_hash: str) -> bool: ...

    @abstractmethod
    def erase(self, claims: Mapping[str, Any], tenant_id: str, subject: Subject, subject_hash: str) -> PurgeReport: ...

    @abstractmethod
    def hidden(self, claims: Mapping[str, Any], tenant_id: str) -> list[HiddenContact]: ...


class PurgeStore(ABC):
    """The service-side sweep: purge what slipped in for hidden contacts."""

    @abstractmethod
    def hidden_subjects(self, tenant_id: str | None = None) -> list[tuple[str, str]]:
        """(tenant id, subject key) of every hidden subject, of one tenant or of all."""

    @abstractmethod
    def sweep(self, tenant_id: str, subject: str, subject_hash: str, actor: str) -> PurgeReport: ...
