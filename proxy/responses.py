"""Response bodies of the proxy's routes, as models: the OpenAPI document and the JSON
Schemas of ``frontend_contract/`` are generated from them (``ponte contract``)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, RootModel


class Body(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class ErrorBody(Body):
    """Every error of a user-facing route: a machine code and a reason (never a secret or a stack);
    ``data`` when the error says what to do instead (``outside_service_window``: ``template_route``)."""

    code: str
    message: str
    data: dict[str, str] | None = None


class WebhookAccepted(Body):
    outcome: Literal["accepted"]
    events: int
    dropped: int
    # Cloud API: events of a phone number that is not this tenant's (or not this Meta app's)
    refused: int = 0


class WebhookIgnored(Body):
    """Known but not handled, or dropped by the privacy gate: acknowledged so the gateway stops retrying."""

    outcome: Literal["ignored"]
    reason: str | None


class WebhookRejected(Body):
    outcome: Literal["rejected"]
    code: str
    reason: str


class Health(Body):
    ok: bool


class SuggestionOutcomeBody(Body):
    """What became of a reply suggestion (``POST /suggestions/{id}/outcome``)."""

    id: str
    outcome: Literal["as_is", "edited", "discarded"]


class MetricsText(RootModel[str]):
    """``GET /metrics``: Prometheus' text exposition format (``text/plain; version=0.0.4``)."""
