"""The caller's identity and tenants."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ponte.domain.accounts import Me
from ponte.ports.accounts import MembershipReader


class AccountService:
    def __init__(self, reader: MembershipReader) -> None:
        self._reader = reader

    def me(self, claims: Mapping[str, Any]) -> Me:
        return Me(
            user_id=str(claims["sub"]),
            email=claims.get("email"),
            memberships=tuple(self._reader.memberships(claims)),
        )
