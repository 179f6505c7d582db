"""Automatic messages through the agents' outbox: ``SendService.send_automatic`` behind the port."""

from __future__ import annotations

import logging

from ponte.domain.operations import AutomaticKind
from ponte.domain.outbox import OutboxStatus
from ponte.ports.lifecycle import AutomaticSender
from ponte.services.exceptions import ServiceError
from ponte.services.sending import SendService

logger = logging.getLogger(__name__)


class OutboxAutomaticSender(AutomaticSender):
    def __init__(self, sending: SendService) -> None:
        self._sending = sending

    def send(self, tenant_id: str, conversation_id: str, kind: AutomaticKind, text: str, key: str) -> bool:
        try:
            result = self._sending.send_automatic(
                tenant_id, conversation_id, kind=kind.value, text=text, idempotency_key=key
            )
        except ServiceError as exc:
            logger.warning("automatic message refused", extra={"kind": kind.value, "code": exc.code})
            return False
        return result.record.status is OutboxStatus.SENT
