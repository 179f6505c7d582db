"""Session recovery of WhatsApp instances: runs the pure state machine against the gateway.

Fed by connection / QR events (ingest), status checks (admins, the schedule) and admin
requests. The instance's state is held exclusively while a recovery runs, so that a burst
of connection events waits and then finds the recovery already done (cooldown).
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable, Mapping
from typing import Any

from ponte.domain.events import ConnectionEvent, ConnectionState, QrEvent
from ponte.domain.gateway import SessionInfo, SessionStatus
from ponte.domain.session_recovery import (
    ActionKind,
    Observation,
    RecoveryPolicy,
    RecoveryState,
    Trigger,
    step,
)
from ponte.ports.clock import Clock
from ponte.ports.gateway import GatewayAuthError, GatewayError, GatewayFactory, GatewayTarget
from ponte.ports.sessions import SessionHandle, SessionStore
from ponte.services.exceptions import NotFoundError

Claims = Mapping[str, Any]
MAX_STEPS = 10

_EVENT_STATES = {
    ConnectionState.OPEN: SessionStatus.CONNECTED,
    ConnectionState.CONNECTING: SessionStatus.CONNECTING,
    ConnectionState.QR_READ_SUCCESS: SessionStatus.CONNECTING,
    ConnectionState.CLOSE: SessionStatus.DISCONNECTED,
    ConnectionState.DISCONNECTED_MOBILE: SessionStatus.DISCONNECTED,
    ConnectionState.NOT_LOGGED: SessionStatus.NOT_LOGGED,
    ConnectionState.OTHER: SessionStatus.UNKNOWN,
}


def code_digest(info: SessionInfo) -> str | None:
    code = info.qr_code or info.pairing_code or info.qr_image
    return hashlib.sha256(code.encode()).hexdigest()[:32] if code else None


def session_of_event(event: ConnectionEvent | QrEvent) -> SessionInfo:
    if isinstance(event, QrEvent):
        return SessionInfo(
            status=SessionStatus.QR_PENDING,
            qr_code=event.qr_code,
            qr_image=getattr(event, "qr_image", None),
            pairing_code=event.pairing_code,
        )
    status = _EVENT_STATES[event.state]
    if event.state is ConnectionState.CLOSE and event.status_code == 401:
        status = SessionStatus.NOT_LOGGED  # Baileys "logged out"
    return SessionInfo(status=status, provider_state=event.provider_state or event.state.value)


class SessionService:
    def __init__(
        self,
        *,
        store: SessionStore,
        gateways: GatewayFactory,
        policy: RecoveryPolicy | None = None,
        clock: Clock | None = None,
        poll_seconds: float = 2.0,
        max_polls: int = 3,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._store = store
        self._gateways = gateways
        self._policy = policy or RecoveryPolicy()
        self._clock = clock or Clock()
        self._poll_seconds = poll_seconds
        self._max_polls = max_polls
        self._sleep = sleep

    # --- entry points ------------------------------------------------------------------------

    def on_event(self, instance_id: str, event: ConnectionEvent | QrEvent) -> str:
        target = self._store.target(instance_id)
        if target is None:
            return "unknown_instance"
        return self._run(target, session_of_event(event), Trigger.EVENT)

    def check(self, instance_id: str) -> str:
        """A scheduled status check of one instance."""
        target = self._store.target(instance_id)
        if target is None:
            return "unknown_instance"
        return self._run(target, self._status(target), Trigger.STATUS_CHECK)

    def check_all(self) -> dict[str, str]:
        return {instance_id: self.check(instance_id) for _, instance_id in self._store.instance_ids()}

    def status(self, claims: Claims, instance_id: str) -> dict[str, Any]:
        target = self._admin_target(claims, instance_id)
        reason = self._run(target, self._status(target), Trigger.STATUS_CHECK)
        return self._store.view(claims, instance_id) | {"reason": reason}

    def reconnect(self, claims: Claims, instance_id: str) -> dict[str, Any]:
        target = self._admin_target(claims, instance_id)
        reason = self._run(target, self._status(target), Trigger.ADMIN_RECONNECT)
        return self._store.view(claims, instance_id) | {"reason": reason}

    def reset(self, claims: Claims, instance_id: str) -> dict[str, Any]:
        target = self._admin_target(claims, instance_id)
        reason = self._run(target, SessionInfo(status=SessionStatus.UNKNOWN), Trigger.ADMIN_RESET)
        return self._store.view(claims, instance_id) | {"reason": reason}

    # --- the loop ----------------------------------------------------------------------------

    def _admin_target(self, claims: Claims, instance_id: str) -> GatewayTarget:
        target = self._store.admin_target(claims, instance_id)
        if target is None:
            raise NotFoundError("no such instance among the ones you administer", code="instance_not_found")
        return target

    def _run(self, target: GatewayTarget, info: SessionInfo, trigger: Trigger) -> str:
        policy = self._policy.model_copy(update={"has_alternate": self._gateways.has_alternate(target)})
        reasons: list[str] = []
        with self._store.hold(target) as handle:
            state: RecoveryState = handle.state
            for _ in range(MAX_STEPS):
                obs = Observation(status=info.status, trigger=trigger, code_digest=code_digest(info))
                decision = step(state, obs, now=self._clock.now(), policy=policy)
                state = decision.state
                unknown = info.status is SessionStatus.UNKNOWN and info.provider_state
                reasons.append(str(info.provider_state) if unknown else decision.reason)
                handle.save(state, decision.reason)
                if info.status is not SessionStatus.UNKNOWN:
                    handle.set_status(info.status.value)
                follow_up = self._act(target, handle, decision.actions, info)
                if follow_up is None:
                    break
                info, trigger = follow_up, Trigger.FOLLOW_UP
        return reasons[-1] if reasons else "none"

    def _act(
        self, target: GatewayTarget, handle: SessionHandle, actions: tuple[Any, ...], info: SessionInfo
    ) -> SessionInfo | None:
        follow_up = None
        for action in actions:
            if action.kind is ActionKind.PUBLISH_QR:
                handle.publish_qr(info)
            elif action.kind is ActionKind.RECONNECT:
                handle.set_status("reconnecting")
                follow_up = self._settle(target, lambda gw: gw.restart(), alternate=action.alternate)
            elif action.kind is ActionKind.RESET:
                handle.set_status("resetting")
                follow_up = self._settle(target, _reset_total, alternate=False)
        return follow_up

    def _settle(self, target: GatewayTarget, act: Callable[[Any], SessionInfo], *, alternate: bool) -> SessionInfo:
        """Run one action, then poll the status while the gateway is still connecting."""
        try:
            gateway = self._gateways.for_instance(target, alternate=alternate)
            info = act(gateway)
            for _ in range(self._max_polls):
                if info.status not in (SessionStatus.CONNECTING, SessionStatus.UNKNOWN):
                    break
                self._sleep(self._poll_seconds)
                info = gateway.status()
        except GatewayAuthError as exc:
            # wrong credentials: as good as down, so the next attempt (alternate keys) runs
            return SessionInfo(status=SessionStatus.DISCONNECTED, provider_state=exc.code)
        except GatewayError as exc:
            return SessionInfo(status=SessionStatus.UNKNOWN, provider_state=exc.code)
        return info

    def _status(self, target: GatewayTarget) -> SessionInfo:
        try:
            info = self._gateways.for_instance(target).status()
        except GatewayAuthError as exc:
            return SessionInfo(status=SessionStatus.DISCONNECTED, provider_state=exc.code)
        except GatewayError as exc:  # unreachable / timing out: nothing to decide on
            return SessionInfo(status=SessionStatus.UNKNOWN, provider_state=exc.code)
        return info


def _reset_total(gateway: Any) -> SessionInfo:
    """Clear the gateway's session (logout deletes its data) and start a new one: it asks for a QR."""
    gateway.logout()
    info: SessionInfo = gateway.start()
    return info
