"""JSON Schemas of pydantic models, closed (``additionalProperties: false``) all the way down."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

REF_TEMPLATE = "#/components/schemas/{model}"


class ContractError(Exception):
    """The code and its contract disagree (an open object, a route without declared responses...)."""


def model_schema(model: type[BaseModel], ref_template: str = "#/$defs/{model}") -> dict[str, Any]:
    """The model's schema as a response body (serialization mode), checked closed."""
    schema = model.model_json_schema(mode="serialization", ref_template=ref_template)
    assert_closed(schema, model.__name__)
    return schema


def assert_closed(schema: Any, where: str) -> None:
    """Every object schema is closed (``additionalProperties: false``: frontends can rely on the exact
    keys) or a typed map (``dict[str, int]``: no fixed keys, every value of one schema). Free-form
    objects (``dict[str, Any]``) are refused."""
    if isinstance(schema, dict):
        if schema.get("type") == "object" or "properties" in schema:
            extra = schema.get("additionalProperties")
            typed_map = isinstance(extra, dict) and bool(extra) and "properties" not in schema
            if extra is not False and not typed_map:
                raise ContractError(f"{where}: an open object schema, not closed nor a typed map ({sorted(schema)})")
        for key, value in schema.items():
            assert_closed(value, f"{where}.{key}")
    elif isinstance(schema, list):
        for i, item in enumerate(schema):
            assert_closed(item, f"{where}[{i}]")


def split_defs(schema: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """(schema without ``$defs``, the definitions it used)."""
    body = dict(schema)
    defs = body.pop("$defs", {})
    return body, defs
