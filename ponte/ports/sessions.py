"""Storage of the session-recovery state, instance status and the latest QR of each instance."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterator, Mapping
from contextlib import AbstractContextManager
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict

from ponte.domain.gateway import SessionInfo
from ponte.domain.session_recovery import RecoveryState
from ponte.ports.gateway import GatewayTarget

Claims = Mapping[str, Any]


class QrCode(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    qr_code: str | None = None
    qr_image: str | None = None
    pairing_code: str | None = None
    generated_at: datetime


class SessionHandle(ABC):
    """One instance's recovery state, held exclusively until the handle's block ends."""

    state: RecoveryState

    @abstractmethod
    def save(self, state: RecoveryState, reason: str) -> None: ...

    @abstractmethod
    def set_status(self, status: str) -> None: ...

    @abstractmethod
    def publish_qr(self, info: SessionInfo) -> None:
        """Store the code for the tenant's admins (a trigger broadcasts it on their topic)."""


class SessionStore(ABC):
    @abstractmethod
    def target(self, instance_id: str) -> GatewayTarget | None:
        """Any instance, for the service side (events, schedules)."""

    @abstractmethod
    def admin_target(self, claims: Claims, instance_id: str) -> GatewayTarget | None:
        """The instance when the caller is an owner or admin of its tenant."""

    @abstractmethod
    def hold(self, target: GatewayTarget) -> AbstractContextManager[SessionHandle]: ...

    @abstractmethod
    def view(self, claims: Claims, instance_id: str) -> dict[str, Any]:
        """Status, recovery state and the latest QR, read under the caller's RLS."""

    @abstractmethod
    def instance_ids(self) -> Iterator[tuple[str, str]]:
        """(tenant_id, instance_id) of every instance, for the scheduled status checks."""
