"""What becomes of an accepted event that the ingest cannot store because of its data.

Retrying such an event cannot succeed: it would burn its receives and vanish into the
dead-letter queue, and an accepted message would be lost. It is quarantined instead -- kept
with its reason, listed by ``ponte quarantine list`` and replayed by ``ponte quarantine replay``
after a fix -- unless it concerns a hidden contact, which leaves no trace. Failures of the
infrastructure (the database down) are not data failures: they are retried as before.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from ponte.domain.envelope import IngestEnvelope
from ponte.domain.privacy import identities_screened
from ponte.domain.quarantine import QuarantineEntry
from ponte.ports.privacy import PrivacySettings
from ponte.ports.quarantine import QuarantineStore

logger = logging.getLogger(__name__)

INGEST_PROVIDER = "ingest"  # the quarantine's provider for events that failed at ingest
REASON = "ingest_data_error"


class IngestFailures:
    def __init__(
        self,
        *,
        quarantine: QuarantineStore,
        privacy: PrivacySettings,
        is_data_error: Callable[[BaseException], bool],
    ) -> None:
        self._quarantine = quarantine
        self._privacy = privacy
        self._is_data_error = is_data_error

    def absorb(self, envelope: IngestEnvelope, exc: BaseException) -> bool:
        """True when the failure was the event's data and it is now quarantined (or, for a hidden
        contact, dropped): the queue message may be acknowledged. False: retry it."""
        if not self._is_data_error(exc):
            return False
        if self._privacy.is_hidden(envelope.tenant_id, identities_screened(envelope.event)):
            logger.info("ingest data failure of a hidden contact dropped")
            return True
        self._quarantine.put(
            QuarantineEntry.capped(
                envelope.model_dump_json().encode(),
                limit=1024 * 1024,
                tenant_id=envelope.tenant_id,
                instance_id=envelope.instance_id,
                provider=INGEST_PROVIDER,
                reason_code=REASON,
                detail=type(exc).__name__,
                event=envelope.event.type,
            )
        )
        logger.warning("ingest data failure quarantined", extra={"error": type(exc).__name__})
        return True
