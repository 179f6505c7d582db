"""Request bodies checked against their models: 400 with a machine code, never a 5xx."""

from __future__ import annotations

from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from ponte.services.exceptions import BadRequestError

M = TypeVar("M", bound=BaseModel)


def parse_body(model: type[M], body: Any, *, code: str = "invalid_body") -> M:
    if not isinstance(body, dict):
        raise BadRequestError("body must be a JSON object", code="invalid_json")
    try:
        return model.model_validate(body)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first.get("loc", ())) or "body"
        raise BadRequestError(f"{where}: {first.get('msg', 'invalid')}"[:300], code=code) from exc
