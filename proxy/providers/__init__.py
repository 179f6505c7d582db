"""Gateway providers: one package each, all producing the same canonical events."""

from __future__ import annotations

from typing import Any

from ponte.domain.events import trusted
from ponte.domain.exceptions import AnomalousPayloadError, UnsupportedEventError
from ponte.domain.outcomes import Normalized, Outcome
from proxy.providers import cloud, evolution, wppconnect
from proxy.providers.base import Normalizer

NORMALIZERS: dict[str, Normalizer] = {
    "cloud": cloud.normalize,
    "evolution": evolution.normalize,
    "wppconnect": wppconnect.normalize,
}


def normalize(provider: str, payload: Any, *, instance: str) -> Normalized:
    """Run the provider's normalizer; never raises.

    A normalizer signals "known but not handled" and "anomalous" with domain errors. Anything
    else is a bug of ours: the payload is rejected as ``normalizer_error`` (and so quarantined
    by the intake, to be replayed after the fix) instead of failing the webhook with a 500.
    """
    normalizer = NORMALIZERS.get(provider)
    if normalizer is None:
        return Normalized(outcome=Outcome.REJECTED, reason="unknown_provider", detail=provider[:40])
    try:
        return normalizer(payload, instance=instance)
    except UnsupportedEventError as exc:
        return trusted(Normalized, outcome=Outcome.IGNORED, reason=exc.code, event_name=exc.event_name)
    except AnomalousPayloadError as exc:
        return Normalized(outcome=Outcome.REJECTED, reason=exc.code, detail=exc.detail, event_name=_name(payload))
    except Exception as exc:
        return Normalized(
            outcome=Outcome.REJECTED, reason="normalizer_error", detail=type(exc).__name__, event_name=_name(payload)
        )


def _name(payload: Any) -> str | None:
    try:
        name = payload.get("event") if isinstance(payload, dict) else None
        if name is None and isinstance(payload, dict) and payload.get("object") is not None:
            name = "whatsapp_business_account"  # the Cloud API's envelope has no event name
    except Exception:
        return None
    return name[:80] if isinstance(name, str) else None
