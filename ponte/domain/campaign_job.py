"""What travels on the campaign queue (``ponte-campaign``): pointers, never message text.

- ``send``: one recipient of a running campaign (its idempotency key is the recipient's id, so a
  duplicate delivery or a redelivery after a crash never sends twice);
- ``inbound``: messages newly stored by one ingest unit, from the ingest's after-commit hook:
  replies are attributed to the campaigns that reached the number, and an opt-out ("SAIR", "não
  quero mais receber", ...) suppresses the number at once.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

MAX_MESSAGES_PER_JOB = 200


class CampaignJob(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    version: int = 1
    kind: Literal["send", "inbound"]
    tenant_id: str
    campaign_id: str | None = None
    recipient_id: str | None = None
    message_ids: tuple[str, ...] = Field(default=(), max_length=MAX_MESSAGES_PER_JOB)

    @model_validator(mode="after")
    def _shape(self) -> CampaignJob:
        if self.kind == "send" and (self.campaign_id is None or self.recipient_id is None):
            raise ValueError("a send job names its campaign and recipient")
        if self.kind == "inbound" and not self.message_ids:
            raise ValueError("an inbound job names its messages")
        return self


def inbound_jobs(tenant_id: str, message_ids: list[str]) -> list[CampaignJob]:
    return [
        CampaignJob(kind="inbound", tenant_id=tenant_id, message_ids=tuple(message_ids[i : i + MAX_MESSAGES_PER_JOB]))
        for i in range(0, len(message_ids), MAX_MESSAGES_PER_JOB)
    ]
