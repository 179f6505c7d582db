"""The message-template cache of the Cloud API instances (``public.message_templates``)."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from ponte.domain.gateway import MessageTemplate
from ponte.ports.gateway import GatewayTarget

Claims = Mapping[str, Any]


class TemplateStore(ABC):
    @abstractmethod
    def instance(self, claims: Claims, instance_id: str) -> GatewayTarget | None:
        """The instance, if the caller may see it (their RLS)."""

    @abstractmethod
    def cached(self, claims: Claims, instance_id: str) -> tuple[list[dict[str, Any]], datetime | None]:
        """The cached templates (as rows) and when they were synced (None: never)."""

    @abstractmethod
    def replace(self, tenant_id: str, instance_id: str, templates: Sequence[MessageTemplate], at: datetime) -> None:
        """The account's list as Meta gave it now replaces the cache."""
