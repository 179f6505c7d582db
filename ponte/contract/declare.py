"""How a proxy route declares its contract: ``@responds({200: Model, 401: ErrorBody}, auth="bearer")``.

Every route of the proxy must carry one: the OpenAPI generator refuses a route without
it, so a new endpoint cannot reach the frontends undocumented.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Literal, TypeVar

from pydantic import BaseModel, RootModel

F = TypeVar("F", bound=Callable[..., Any])
Auth = Literal["bearer", "webhook_secret", "metrics", "none"]
# One model, or several when a status has more than one body shape (``oneOf``).
Bodies = type[BaseModel] | tuple[type[BaseModel], ...]
ATTRIBUTE = "__ponte_contract__"


class PlainText(RootModel[str]):
    """A ``text/plain`` response body (the Cloud API's webhook handshake echoes a challenge)."""


@dataclass(frozen=True)
class RouteContract:
    responses: Mapping[int, Bodies]
    auth: Auth
    request: type[BaseModel] | None = None
    summary: str | None = None
    media_type: str = "application/json"  # of the 2xx bodies (errors are always JSON)


def responds(
    responses: Mapping[int, Bodies],
    *,
    auth: Auth = "bearer",
    request: type[BaseModel] | None = None,
    summary: str | None = None,
    media_type: str = "application/json",
) -> Callable[[F], F]:
    """Declare a view's responses (status -> model(s)); put it under ``@app.route`` (and ``@api``)."""

    def mark(fn: F) -> F:
        setattr(fn, ATTRIBUTE, RouteContract(dict(responses), auth, request, summary, media_type))
        return fn

    return mark


def contract_of(fn: Callable[..., Any]) -> RouteContract | None:
    found = getattr(fn, ATTRIBUTE, None)
    if found is None and hasattr(fn, "__wrapped__"):
        return contract_of(fn.__wrapped__)
    return found if isinstance(found, RouteContract) else None


def models_of(bodies: Bodies) -> tuple[type[BaseModel], ...]:
    return bodies if isinstance(bodies, tuple) else (bodies,)
