from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping
from typing import Any

Claims = Mapping[str, Any]


class DeepLinkReader(ABC):
    """Reads, under the caller's RLS, what resolving a deep link needs."""

    @abstractmethod
    def member_tenants(self, claims: Claims) -> list[tuple[str, str]]:
        """(tenant_id, role) of the caller's memberships."""

    @abstractmethod
    def conversation(self, claims: Claims, tenant_id: str, phone_e164: str) -> dict[str, Any] | None: ...

    @abstractmethod
    def customer(self, claims: Claims, tenant_id: str, phone_e164: str) -> dict[str, Any] | None: ...

    @abstractmethod
    def instances(self, claims: Claims, tenant_id: str) -> list[str]: ...


class TenantKeys(ABC):
    @abstractmethod
    def deeplink_key(self, tenant_id: str) -> bytes | None:
        """The tenant's deep-link signing key, or None when it has none."""
