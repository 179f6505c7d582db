"""The per-process caches of instances and tenant privacy: one read per key per TTL, dropped at
once by a change made through this process, and never trusted to keep a raw payload."""

from __future__ import annotations

import pytest

from ponte.adapters.cached import MAX_ENTRIES, CachedInstanceDirectory, CachedPrivacySettings
from ponte.domain.instances import InstanceRecord
from ponte.domain.privacy import PrivacyPolicy
from ponte.ports.instances import InstanceDirectory
from ponte.ports.privacy import TenantPrivacy

pytestmark = pytest.mark.unit

TENANT = "00000000-0000-4000-8000-00000000c001"


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


class Tenants:
    def __init__(self) -> None:
        self.hidden: set[str] = set()
        self.reads = 0

    def load(self, tenant_id: str) -> TenantPrivacy:
        self.reads += 1
        return TenantPrivacy(PrivacyPolicy(), frozenset(self.hidden))


class Instances(InstanceDirectory):
    def __init__(self) -> None:
        self.reads = 0

    def find_by_gateway(self, tenant_id: str, provider: str, gateway_instance: str) -> InstanceRecord | None:
        return None

    def find(self, instance_id: str) -> InstanceRecord | None:
        self.reads += 1
        if instance_id != "known":
            return None
        return InstanceRecord.model_validate(
            {
                "id": "known",
                "tenant_id": TENANT,
                "provider": "evolution",
                "gateway_instance": "loja",
                "webhook_secret_hash": "x" * 64,
            }
        )


def test_privacy_is_read_once_per_ttl_and_a_hide_here_applies_at_once() -> None:
    clock, tenants = Clock(), Tenants()
    cache = CachedPrivacySettings(tenants.load, 5.0, timer=clock)
    for _ in range(50):
        assert cache.hidden_among(TENANT, ["+5511987650001"]) == frozenset()
        cache.policy(TENANT)
    assert tenants.reads == 1
    # GIVEN a hide committed by another process: seen within the TTL
    tenants.hidden.add("+5511987650001")
    clock.now = 4.9
    assert cache.hidden_among(TENANT, ["+5511987650001"]) == frozenset()
    clock.now = 5.1
    assert cache.hidden_among(TENANT, ["+5511987650001"]) == {"+5511987650001"}
    # WHEN this process unhides (on_change): the next webhook reads afresh
    tenants.hidden.clear()
    cache.invalidate(TENANT)
    assert cache.hidden_among(TENANT, ["+5511987650001"]) == frozenset()


def test_whether_a_raw_payload_may_be_kept_is_never_answered_from_the_cache() -> None:
    clock, tenants = Clock(), Tenants()
    cache = CachedPrivacySettings(tenants.load, 5.0, timer=clock)
    assert not cache.is_hidden(TENANT, ["+5511987650001"])
    cache.hidden_among(TENANT, ["x"])
    tenants.hidden.add("+5511987650001")
    assert cache.is_hidden(TENANT, ["+5511987650001"])  # fresh, though the cached copy is stale


def test_instances_are_cached_unknown_ones_too_and_the_cache_is_bounded() -> None:
    clock, inner = Clock(), Instances()
    cache = CachedInstanceDirectory(inner, 5.0, timer=clock)
    assert cache.find("known") is not None and cache.find("known") is not None
    assert cache.find("nope") is None and cache.find("nope") is None
    assert inner.reads == 2
    cache.invalidate("known")
    cache.find("known")
    assert inner.reads == 3
    # a flood of made-up ids does not grow the cache without bound
    for n in range(MAX_ENTRIES + 500):
        cache.find(f"made-up-{n}")
    assert len(cache._cache) <= MAX_ENTRIES


def test_a_zero_ttl_reads_every_time() -> None:
    tenants = Tenants()
    cache = CachedPrivacySettings(tenants.load, 0.0)
    cache.policy(TENANT)
    cache.policy(TENANT)
    assert tenants.reads == 2
