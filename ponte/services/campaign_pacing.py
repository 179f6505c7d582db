"""The last step of the throttle: right before the gateway is called, a campaign send waits until
the gap its instance's last send drew has passed (a jittered gap, a long pause after every burst;
on the Cloud API also the pair rate to the user), under the instance's pacing lock, then records its
own start and draws the gap for the next.

It sits in the send path as a gateway wrapper (``PacedGateways``) so that nothing of the outbox's
own work (its rows, the target's conversation) comes between the check and the call: the spacing
a gateway sees is the spacing the throttle planned. The sender checks the same gate before it
claims the outbox (``wait_seconds``), so a send that would have to wait long is re-queued instead.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable

from ponte.domain.campaigns.settings import CampaignSettings
from ponte.domain.campaigns.throttle import Channel, ThrottlePolicy, channel_of, next_gap, pair_wait_seconds
from ponte.domain.gateway import (
    FetchedMedia,
    GatewayMessage,
    MediaRef,
    MediaUpload,
    MessageTemplate,
    SentMessage,
    SessionInfo,
)
from ponte.domain.outbound import OutboundContent
from ponte.ports.campaigns import CampaignSendStore
from ponte.ports.clock import Clock
from ponte.ports.gateway import Gateway, GatewayFactory, GatewayTarget

logger = logging.getLogger(__name__)

SETTINGS_TTL_SECONDS = 5.0


class InstancePacer:
    def __init__(
        self,
        store: CampaignSendStore,
        *,
        clock: Clock | None = None,
        time_scale: float = 1.0,
        sleep: Callable[[float], None] = time.sleep,
        rng: random.Random | None = None,
    ) -> None:
        self._rng = rng or random.SystemRandom()
        self._store = store
        self._clock = clock or Clock()
        self._scale = time_scale
        self._sleep = sleep
        self._settings: dict[str, tuple[float, CampaignSettings]] = {}

    def settings(self, tenant_id: str) -> CampaignSettings:
        """A tenant's settings, read at most every few seconds (each send needs its quiet hours)."""
        cached = self._settings.get(tenant_id)
        if cached is not None and time.monotonic() - cached[0] < SETTINGS_TTL_SECONDS:
            return cached[1]
        found = self._store.settings(tenant_id)
        if len(self._settings) > 1024:
            self._settings.clear()
        self._settings[tenant_id] = (time.monotonic(), found)
        return found

    def policy(self, tenant_id: str, provider: str) -> ThrottlePolicy:
        return self.settings(tenant_id).policy(channel_of(provider), scale=self._scale)

    def wait_seconds(self, tenant_id: str, instance_id: str, provider: str, phone_e164: str) -> float:
        """How long a send to ``phone_e164`` from the instance would wait now (nothing recorded)."""
        policy = self.policy(tenant_id, provider)
        now = self._clock.now()
        wait = self._store.gate(instance_id, tenant_id, self._clock.now, None)
        if channel_of(provider) is Channel.CLOUD:
            last = self._store.last_to_recipient(instance_id, tenant_id, phone_e164)
            wait = max(wait, pair_wait_seconds(last, now, policy))
        return wait

    def before_send(self, target: GatewayTarget, to: str) -> None:
        """Wait for the instance's turn and take it (recorded as its last send)."""
        policy = self.policy(target.tenant_id, target.provider)
        started = time.monotonic()
        while True:
            now = self._clock.now()
            wait = 0.0
            if channel_of(target.provider) is Channel.CLOUD:
                last = self._store.last_to_recipient(target.instance_id, target.tenant_id, "+" + to.lstrip("+"))
                wait = pair_wait_seconds(last, now, policy)
            if wait == 0:
                wait = self._store.gate(
                    target.instance_id,
                    target.tenant_id,
                    self._clock.now,
                    lambda in_burst: next_gap(policy, in_burst, self._rng),
                )
            if wait == 0:
                return
            if time.monotonic() - started > 60:
                logger.warning("a campaign send waits over a minute for its instance", extra={"wait": wait})
                started = time.monotonic()
            self._sleep(wait)


class _PacedGateway(Gateway):
    def __init__(self, inner: Gateway, pacer: InstancePacer, target: GatewayTarget) -> None:
        self._inner = inner
        self._pacer = pacer
        self._target = target

    def send_text(self, to: str, text: str) -> SentMessage:
        self._pacer.before_send(self._target, to)
        return self._inner.send_text(to, text)

    def send_content(self, to: str, content: OutboundContent, media: MediaUpload | None = None) -> SentMessage:
        self._pacer.before_send(self._target, to)
        return self._inner.send_content(to, content, media)

    def fetch_media(self, ref: MediaRef, max_bytes: int) -> FetchedMedia:
        return self._inner.fetch_media(ref, max_bytes)

    def templates(self) -> list[MessageTemplate]:
        return self._inner.templates()

    def status(self) -> SessionInfo:
        return self._inner.status()

    def start(self) -> SessionInfo:
        return self._inner.start()

    def restart(self) -> SessionInfo:
        return self._inner.restart()

    def logout(self) -> None:
        self._inner.logout()

    def qr(self) -> SessionInfo:
        return self._inner.qr()

    def recent_messages(self, to: str, limit: int = 20) -> list[GatewayMessage]:
        return self._inner.recent_messages(to, limit)


class PacedGateways(GatewayFactory):
    """The gateways of campaign sends: every send waits for the instance's turn first."""

    def __init__(self, inner: GatewayFactory, pacer: InstancePacer) -> None:
        self._inner = inner
        self._pacer = pacer

    def for_instance(self, target: GatewayTarget, *, alternate: bool = False) -> Gateway:
        return _PacedGateway(self._inner.for_instance(target, alternate=alternate), self._pacer, target)

    def has_alternate(self, target: GatewayTarget) -> bool:
        return self._inner.has_alternate(target)
