"""Who the caller is, as the proxy's user-facing routes see it."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict


class Membership(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    tenant_id: str
    tenant_name: str
    role: Literal["owner", "admin", "agent"]


class Me(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    user_id: str
    email: str | None
    memberships: tuple[Membership, ...]
