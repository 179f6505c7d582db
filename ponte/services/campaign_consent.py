"""A tenant's campaign settings and its suppression list, as people manage them (the routes).

Opt-outs by hand are for a request made elsewhere (by phone, at the counter); opt-ins need a
person's word that the contact asked for it. Both leave a consent record with who recorded it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from ponte.domain.campaigns.api import (
    CampaignSettingsRequest,
    CampaignSettingsView,
    OptOutPage,
    OptOutRequest,
    OptOutStatus,
    OptOutView,
)
from ponte.domain.identity import canonical_phone
from ponte.ports.campaigns import CampaignStore, OptOutStore
from ponte.services.campaigns import ADMIN_ROLES, CampaignsUnavailableError
from ponte.services.exceptions import BadRequestError, ForbiddenError
from ponte.services.paging import decode_cursor, encode_cursor, id_param, page_limit
from ponte.services.requests import parse_body

Claims = Mapping[str, Any]


class ConsentService:
    def __init__(self, store: CampaignStore, opt_outs: OptOutStore, hasher: Callable[[str], str] | None) -> None:
        self._store = store
        self._opt_outs = opt_outs
        self._hasher = hasher

    def _tenant(self, claims: Claims, tenant_id: str | None, *, admin: bool) -> str:
        """The tenant named, or the caller's only administered one; 403 unless the caller may."""
        tenant = id_param(tenant_id, "tenant_id")
        if tenant is None:
            tenants = self._store.admin_tenants(claims)
            if len(tenants) != 1:
                raise BadRequestError("name the tenant (tenant_id)", code="tenant_required")
            tenant = tenants[0]
        role = self._store.role(claims, tenant)
        if role is None or (admin and role not in ADMIN_ROLES):
            raise ForbiddenError("only owners and admins of the tenant", code="admins_only" if admin else "forbidden")
        return tenant

    def _hash(self, phone: str) -> tuple[str, str]:
        if self._hasher is None:
            raise CampaignsUnavailableError("opt-outs need the audit hash key")
        canonical = canonical_phone(phone)
        if canonical is None:
            raise BadRequestError("phone is not a valid phone number", code="invalid_phone")
        return canonical, self._hasher(canonical)

    def settings(self, claims: Claims, params: Mapping[str, str]) -> CampaignSettingsView:
        tenant = self._tenant(claims, params.get("tenant_id"), admin=False)
        settings, updated_at = self._store.settings(claims, tenant)
        return CampaignSettingsView(tenant_id=tenant, settings=settings, updated_at=updated_at)

    def save_settings(self, claims: Claims, params: Mapping[str, str], body: Any) -> CampaignSettingsView:
        request = parse_body(CampaignSettingsRequest, body)
        tenant = self._tenant(claims, params.get("tenant_id"), admin=True)
        updated_at = self._store.save_settings(claims, tenant, request.settings)
        return CampaignSettingsView(tenant_id=tenant, settings=request.settings, updated_at=updated_at)

    def page(self, claims: Claims, params: Mapping[str, str]) -> OptOutPage:
        tenant = self._tenant(claims, params.get("tenant_id"), admin=False)
        limit = page_limit(params, default=50, maximum=200)
        before = None
        if params.get("cursor"):
            at, key = decode_cursor(params["cursor"])
            before = (at, str(key))
        items = self._opt_outs.page(claims, tenant, before=before, limit=limit + 1)
        cursor = None
        if len(items) > limit:
            last = items[limit - 1]
            cursor = encode_cursor(last.opted_out_at, last.phone_hash)
        return OptOutPage(items=items[:limit], next_cursor=cursor)

    def check(self, claims: Claims, params: Mapping[str, str]) -> OptOutStatus:
        tenant = self._tenant(claims, params.get("tenant_id"), admin=False)
        phone, phone_hash = self._hash(params.get("phone") or "")
        entry = self._opt_outs.find(claims, tenant, phone_hash)
        opted = entry is not None and entry.opted_out
        return OptOutStatus(tenant_id=tenant, phone_e164=phone, opted_out=opted, entry=entry)

    def opt_out(self, claims: Claims, body: Any) -> OptOutView:
        request = parse_body(OptOutRequest, body)
        tenant = self._tenant(claims, request.tenant_id, admin=True)
        _, phone_hash = self._hash(request.phone)
        self._opt_outs.opt_out(tenant, phone_hash, source="manual", actor=claims)
        found = self._opt_outs.find(claims, tenant, phone_hash)
        assert found is not None
        return found

    def opt_in(self, claims: Claims, body: Any) -> OptOutView:
        request = parse_body(OptOutRequest, body)
        tenant = self._tenant(claims, request.tenant_id, admin=True)
        _, phone_hash = self._hash(request.phone)
        self._opt_outs.opt_in(tenant, phone_hash, source="manual", actor=claims)
        found = self._opt_outs.find(claims, tenant, phone_hash)
        if found is None:
            raise BadRequestError("this number never opted out", code="not_opted_out")
        return found
