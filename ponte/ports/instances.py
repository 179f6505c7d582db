from __future__ import annotations

from abc import ABC, abstractmethod

from ponte.domain.instances import InstanceRecord


class InstanceDirectory(ABC):
    """Finds the instance a webhook URL names."""

    @abstractmethod
    def find(self, instance_id: str) -> InstanceRecord | None: ...
