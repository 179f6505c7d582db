"""Per-process caches of what every webhook reads: the instance its URL names, and its tenant's
privacy policy and hidden list. One read per key per TTL instead of one per request (per warm
Lambda container on AWS, per process locally).

Freshness: a change made through this process (a hide, an unhide, an erasure, an instance's new
secret) invalidates the entry at once; one made elsewhere applies within the TTL. The privacy
promise does not rest on this cache: the ingest store checks the hidden list inside the storing
transaction, under the tenant's privacy lock (``private.ingest_allowed``), so a message of a
contact hidden a moment ago that passes a stale gate is still refused. Decisions to keep a raw
payload (quarantine) read the hidden list afresh.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence

from cachetools import TTLCache

from ponte.domain.instances import InstanceRecord
from ponte.domain.privacy import PrivacyPolicy
from ponte.ports.instances import InstanceDirectory
from ponte.ports.privacy import PrivacySettings, TenantPrivacy

# bounded: ids from the URL are attacker-chosen, and unknown ones are cached too
MAX_ENTRIES = 10_000


class CachedPrivacySettings(PrivacySettings):
    def __init__(
        self,
        load: Callable[[str], TenantPrivacy],
        ttl_seconds: float,
        *,
        timer: Callable[[], float] = time.monotonic,
    ) -> None:
        self._load = load
        self._cache: TTLCache[str, TenantPrivacy] = TTLCache(MAX_ENTRIES, ttl_seconds, timer=timer)
        self._lock = threading.Lock()

    def _get(self, tenant_id: str) -> TenantPrivacy:
        with self._lock:
            found = self._cache.get(tenant_id)
        if found is None:
            found = self._load(tenant_id)
            with self._lock:
                self._cache[tenant_id] = found
        return found

    def policy(self, tenant_id: str) -> PrivacyPolicy:
        return self._get(tenant_id).policy

    def hidden_among(self, tenant_id: str, identities: Sequence[str]) -> frozenset[str]:
        return self._get(tenant_id).hidden.intersection(identities)

    def is_hidden(self, tenant_id: str, identities: Sequence[str]) -> bool:
        """Afresh: whether a raw payload may be kept must not rest on a stale list."""
        return bool(self._load(tenant_id).hidden.intersection(identities))

    def invalidate(self, tenant_id: str) -> None:
        with self._lock:
            self._cache.pop(tenant_id, None)


class CachedInstanceDirectory(InstanceDirectory):
    def __init__(
        self, inner: InstanceDirectory, ttl_seconds: float, *, timer: Callable[[], float] = time.monotonic
    ) -> None:
        self._inner = inner
        self._cache: TTLCache[str, InstanceRecord | None] = TTLCache(MAX_ENTRIES, ttl_seconds, timer=timer)
        self._lock = threading.Lock()

    def find(self, instance_id: str) -> InstanceRecord | None:
        with self._lock:
            if instance_id in self._cache:
                return self._cache[instance_id]
        found = self._inner.find(instance_id)
        with self._lock:
            self._cache[instance_id] = found
        return found

    def find_by_gateway(self, tenant_id: str, provider: str, gateway_instance: str) -> InstanceRecord | None:
        """Not cached: a Cloud API body naming a sibling number of the instance its URL names (rare)."""
        return self._inner.find_by_gateway(tenant_id, provider, gateway_instance)

    def invalidate(self, instance_id: str | None = None) -> None:
        """One instance, or every one."""
        with self._lock:
            if instance_id is None:
                self._cache.clear()
            else:
                self._cache.pop(instance_id, None)
