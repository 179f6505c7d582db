from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping
from typing import Any

from ponte.domain.accounts import Membership


class MembershipReader(ABC):
    @abstractmethod
    def memberships(self, claims: Mapping[str, Any]) -> list[Membership]:
        """The caller's memberships, read under the caller's row-level security."""
