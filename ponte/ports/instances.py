from __future__ import annotations

from abc import ABC, abstractmethod

from ponte.domain.instances import InstanceRecord


class InstanceDirectory(ABC):
    """Finds the instance a webhook URL names."""

    @abstractmethod
    def find(self, instance_id: str) -> InstanceRecord | None: ...

    @abstractmethod
    def find_by_gateway(self, tenant_id: str, provider: str, gateway_instance: str) -> InstanceRecord | None:
        """The tenant's instance of ``provider`` named ``gateway_instance`` (Cloud API: a phone_number_id)."""
