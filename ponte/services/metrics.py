"""``GET /metrics``: who may scrape (the metrics token: every tenant; an owner's or admin's JWT:
their tenants' series only) and the exposition. 401 without a valid bearer, 403 for a member who
administers no tenant."""

from __future__ import annotations

import hmac
from collections.abc import Callable, Mapping
from typing import Any

from prometheus_client.registry import Collector

from ponte.ports.accounts import MembershipReader
from ponte.services.exceptions import ForbiddenError, UnauthorizedError

ADMIN_ROLES = frozenset({"owner", "admin"})


class MetricsService:
    def __init__(
        self,
        *,
        token: str | None,
        verify: Callable[[str], Mapping[str, Any]] | None,
        memberships: MembershipReader,
        collector: Callable[[frozenset[str] | None], Collector],
        exposition: Callable[[Collector], bytes],
    ) -> None:
        self._token = token
        self._verify = verify
        self._memberships = memberships
        self._collector = collector
        self._exposition = exposition

    def scrape(self, authorization: str | None) -> bytes:
        scheme, _, bearer = (authorization or "").partition(" ")
        if scheme.lower() != "bearer" or not bearer.strip():
            raise UnauthorizedError("a bearer token is required")
        bearer = bearer.strip()
        if self._token and hmac.compare_digest(bearer.encode(), self._token.encode()):
            return self._exposition(self._collector(None))
        if self._verify is None:
            raise UnauthorizedError("invalid token")
        claims = self._verify(bearer)  # raises UnauthorizedError
        tenants = frozenset(m.tenant_id for m in self._memberships.memberships(claims) if m.role in ADMIN_ROLES)
        if not tenants:
            raise ForbiddenError("only owners and admins read the metrics", code="forbidden")
        return self._exposition(self._collector(tenants))
