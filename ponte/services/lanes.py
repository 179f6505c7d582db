"""Two ingest lanes: a webhook carrying many events (a history sync, a contact batch, a flood)
is enqueued to the bulk queue, so its backlog never delays the ordinary one-message webhooks
of other instances, which keep the live queue to themselves."""

from __future__ import annotations

from collections.abc import Sequence

from ponte import constants as c
from ponte.domain.envelope import IngestEnvelope
from ponte.ports.queue import EventQueue


class IngestLanes(EventQueue):
    def __init__(self, live: EventQueue, bulk: EventQueue | None, *, min_bulk_events: int = c.BULK_LANE_MIN_EVENTS):
        self._live = live
        self._bulk = bulk
        self._min_bulk = min_bulk_events

    def publish(self, envelopes: Sequence[IngestEnvelope]) -> None:
        bulk = self._bulk is not None and len(envelopes) >= self._min_bulk
        (self._bulk if bulk and self._bulk is not None else self._live).publish(envelopes)
