from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence

from ponte.domain.privacy import PrivacyPolicy


class PrivacySettings(ABC):
    """A tenant's intake policy and hidden contacts."""

    @abstractmethod
    def policy(self, tenant_id: str) -> PrivacyPolicy: ...

    @abstractmethod
    def is_hidden(self, tenant_id: str, identities: Sequence[str]) -> bool:
        """True when any of the identities (E.164, JID, @lid) is on the tenant's hidden list."""
