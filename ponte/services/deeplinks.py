"""Resolve a marketing deep link into the tenant's conversation with that phone, or a virtual one.

A virtual conversation is not stored: it carries what the UI needs to show the customer
card and the prefilled text, and how to send the first message (``POST /conversations``),
which is what creates the contact and the conversation.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Mapping
from typing import Any

from pydantic import ValidationError

from ponte.domain.deeplinks import VERSION, DeepLink, sign, verify
from ponte.domain.identity import canonical_phone
from ponte.ports.deeplinks import DeepLinkReader, TenantKeys
from ponte.services.exceptions import BadRequestError, ForbiddenError

Claims = Mapping[str, Any]
MAX_TTL_SECONDS = 90 * 24 * 3600


def _link(params: Mapping[str, str]) -> DeepLink:
    if params.get("v", VERSION) != VERSION:
        raise BadRequestError("unsupported deep-link version", code="unsupported_version")
    exp = params.get("exp")
    try:
        return DeepLink(
            tenant_id=params.get("t") or "",
            phone=params.get("p") or "",
            text=params.get("m") or "",
            expires_at=int(exp) if exp else None,
            signature=params.get("sig") or None,
        )
    except (ValidationError, ValueError) as exc:
        raise BadRequestError("malformed deep link", code="invalid_deeplink") from exc


class DeepLinkService:
    def __init__(self, *, reader: DeepLinkReader, keys: TenantKeys, now: Callable[[], float] = time.time) -> None:
        self._reader = reader
        self._keys = keys
        self._now = now

    def resolve(self, claims: Claims, params: Mapping[str, str]) -> dict[str, Any]:
        link = _link(params)
        tenant_id = self._tenant(claims, link.tenant_id)
        signed = False
        if link.signature:
            key = self._keys.deeplink_key(tenant_id)
            reason = verify(link, key, now=self._now()) if key else "no_tenant_key"
            if reason is not None:
                raise ForbiddenError("the link's signature is not valid", code=reason)
            signed = True
        phone = canonical_phone(link.phone)
        if phone is None:
            raise BadRequestError("the link's phone is not a valid phone number", code="invalid_phone")
        customer = self._reader.customer(claims, tenant_id, phone)
        found = self._reader.conversation(claims, tenant_id, phone)
        if found is not None:
            conversation = {**found, "virtual": False}
            send: dict[str, Any] = {"method": "POST", "path": f"/conversations/{found['id']}/messages"}
        else:
            instances = self._reader.instances(claims, tenant_id)
            conversation = {
                "id": None,
                "virtual": True,
                "instance_id": instances[0] if len(instances) == 1 else None,
                "instance_ids": instances,
                "chat_key": phone,
                "contact": {"id": None, "display_name": customer["name"] if customer else None, "phone_e164": phone},
            }
            send = {"method": "POST", "path": "/conversations", "body": {"phone": phone}}
        return {
            "tenant_id": tenant_id,
            "phone_e164": phone,
            "signed": signed,
            "prefilled_text": link.text,
            "conversation": conversation,
            "customer": customer,
            "send": send,
        }

    def create(self, claims: Claims, body: Mapping[str, Any]) -> dict[str, Any]:
        """A signed link for an admin (or a marketing tool acting as one)."""
        tenant_id = self._tenant(claims, str(body.get("tenant_id") or ""), admin=True)
        ttl = body.get("ttl_seconds", 7 * 24 * 3600)
        if not isinstance(ttl, int) or not 60 <= ttl <= MAX_TTL_SECONDS:
            raise BadRequestError("ttl_seconds must be 60 to 7776000", code="invalid_ttl")
        phone = canonical_phone(str(body.get("phone") or ""))
        if phone is None:
            raise BadRequestError("phone is not a valid phone number", code="invalid_phone")
        key = self._keys.deeplink_key(tenant_id)
        if key is None:
            raise BadRequestError("the tenant has no deep-link key", code="no_tenant_key")
        try:
            link = DeepLink(
                tenant_id=tenant_id, phone=phone, text=str(body.get("text") or ""), expires_at=int(self._now()) + ttl
            )
        except ValidationError as exc:
            raise BadRequestError("text is too long", code="invalid_deeplink") from exc
        signed = sign(link, key)
        return {"query": signed.query(), "expires_at": signed.expires_at}

    def _tenant(self, claims: Claims, tenant_id: str, *, admin: bool = False) -> str:
        memberships = dict(self._reader.member_tenants(claims))
        if admin:
            memberships = {t: r for t, r in memberships.items() if r in ("owner", "admin")}
        if not tenant_id:
            if len(memberships) != 1:
                raise BadRequestError("the link must name its tenant (t)", code="tenant_required")
            return next(iter(memberships))
        try:
            uuid.UUID(tenant_id)
        except ValueError as exc:
            raise BadRequestError("t is not a tenant id", code="invalid_deeplink") from exc
        if tenant_id not in memberships:
            raise ForbiddenError("the link belongs to a tenant you are not a member of", code="forbidden")
        return tenant_id
