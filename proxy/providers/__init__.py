"""Gateway providers: one module each, all producing the same canonical events."""

from __future__ import annotations

from typing import Any

from ponte.domain.exceptions import AnomalousPayloadError, UnsupportedEventError
from ponte.domain.outcomes import Normalized, Outcome
from proxy.providers import evolution
from proxy.providers.base import Normalizer

NORMALIZERS: dict[str, Normalizer] = {
    "evolution": evolution.normalize,
}


def normalize(provider: str, payload: Any, *, instance: str) -> Normalized:
    """Run the provider's normalizer; never raises for payload problems."""
    normalizer = NORMALIZERS.get(provider)
    if normalizer is None:
        return Normalized(outcome=Outcome.REJECTED, reason="unknown_provider", detail=provider)
    try:
        return normalizer(payload, instance=instance)
    except UnsupportedEventError as exc:
        return Normalized(outcome=Outcome.IGNORED, reason=exc.code, event_name=exc.event_name)
    except AnomalousPayloadError as exc:
        return Normalized(outcome=Outcome.REJECTED, reason=exc.code, detail=exc.detail)
