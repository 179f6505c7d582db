"""The contract generator refuses open objects and undeclared routes; the validator catches wrong bodies."""

from __future__ import annotations

from typing import Any

import pytest
from chalice.app import Chalice
from pydantic import BaseModel, ConfigDict

from ponte.contract.declare import responds
from ponte.contract.openapi import build_openapi, route_contracts
from ponte.contract.schemas import ContractError, model_schema
from ponte.contract.validate import assert_conforms
from ponte.domain import realtime

pytestmark = pytest.mark.unit


class Closed(BaseModel):
    model_config = ConfigDict(extra="forbid")
    a: int


class Open(BaseModel):
    a: int


class Nested(BaseModel):
    model_config = ConfigDict(extra="forbid")
    inner: Open


class FreeForm(BaseModel):
    model_config = ConfigDict(extra="forbid")
    detail: dict[str, Any]


class TypedMap(BaseModel):
    model_config = ConfigDict(extra="forbid")
    counts: dict[str, int]


def test_open_objects_are_refused_even_nested() -> None:
    assert model_schema(Closed)["additionalProperties"] is False
    with pytest.raises(ContractError, match="open object"):
        model_schema(Open)
    with pytest.raises(ContractError, match="open object"):
        model_schema(Nested)
    with pytest.raises(ContractError, match="open object"):
        model_schema(FreeForm)
    assert model_schema(TypedMap)["properties"]["counts"]["additionalProperties"] == {"type": "integer"}


def test_every_realtime_payload_is_closed() -> None:
    for topic in realtime.TOPICS:
        for event in topic.events:
            assert model_schema(event.payload)["additionalProperties"] is False


def test_a_route_without_declared_responses_is_an_error() -> None:
    app = Chalice(app_name="t")

    @app.route("/declared")
    @responds({200: Closed}, auth="none")
    def declared() -> dict[str, int]:
        return {"a": 1}

    @app.route("/forgotten")
    def forgotten() -> dict[str, int]:
        return {"a": 1}

    with pytest.raises(ContractError, match="GET /forgotten"):
        route_contracts(app)
    del app.routes["/forgotten"]
    document, models = build_openapi(app, title="t", version="0")
    assert models == {Closed}
    schema = document["paths"]["/declared"]["get"]["responses"]["200"]["content"]["application/json"]["schema"]
    assert schema == {"$ref": "#/components/schemas/Closed"}


def test_validator_checks_bodies_against_the_committed_contract() -> None:
    path = "/webhooks/evolution/00000000-0000-4000-8000-000000000001"
    assert_conforms("POST", path, 200, {"outcome": "accepted", "events": 1, "dropped": 0})
    assert_conforms("POST", path, 200, {"outcome": "ignored", "reason": "group_chat"})
    with pytest.raises(ContractError, match="Additional properties"):
        assert_conforms("POST", path, 401, {"outcome": "rejected", "code": "unauthorized", "reason": "x", "extra": 1})
    with pytest.raises(ContractError, match="does not declare status 418"):
        assert_conforms("POST", path, 418, {})
    with pytest.raises(ContractError, match="no route"):
        assert_conforms("GET", "/nowhere", 200, {})
