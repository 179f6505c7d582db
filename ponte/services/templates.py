"""The Cloud API's message templates: listed from the account (``GET /{waba_id}/message_templates``)
and cached, synced again on demand or once the cache is an hour old. A sync that fails serves the
cached list when there is one."""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

from ponte.domain.events import Provider
from ponte.domain.gateway_api import scalar_map
from ponte.ports.clock import Clock
from ponte.ports.gateway import GatewayError, GatewayFactory
from ponte.ports.templates import Claims, TemplateStore
from ponte.services.exceptions import NotFoundError, UnprocessableError
from ponte.services.sending import gateway_error

logger = logging.getLogger(__name__)

MAX_AGE = timedelta(hours=1)


class TemplateService:
    def __init__(
        self,
        *,
        store: TemplateStore,
        gateways: GatewayFactory,
        clock: Clock | None = None,
        max_age: timedelta = MAX_AGE,
    ) -> None:
        self._store = store
        self._gateways = gateways
        self._clock = clock or Clock()
        self._max_age = max_age

    def list(self, claims: Claims, instance_id: str, *, refresh: bool = False) -> dict[str, Any]:
        target = self._store.instance(claims, instance_id)
        if target is None:
            raise NotFoundError("no such instance", code="instance_not_found")
        if target.provider is not Provider.CLOUD:
            raise UnprocessableError("only Cloud API instances have message templates", code="unsupported_by_provider")
        rows, synced = self._store.cached(claims, instance_id)
        now = self._clock.now()
        if refresh or synced is None or now - synced > self._max_age:
            try:
                templates = self._gateways.for_instance(target).templates()
            except GatewayError as exc:
                if synced is None:
                    raise gateway_error(exc) from exc
                logger.warning("template sync failed: the cached list is served", extra={"code": exc.code})
            else:
                self._store.replace(target.tenant_id, instance_id, templates, now)
                rows, synced = self._store.cached(claims, instance_id)
        items = [
            {**row, "components": [scalar_map(c) or {} for c in row["components"] if isinstance(c, dict)]}
            for row in rows
        ]
        return {"instance_id": instance_id, "items": items, "synced_at": synced}
