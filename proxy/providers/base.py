"""What every gateway provider module offers: one function from payload to outcome."""

from __future__ import annotations

from typing import Any, Protocol

from ponte.domain.outcomes import Normalized


class Normalizer(Protocol):
    def __call__(self, payload: Any, *, instance: str) -> Normalized: ...
