"""Check a proxy response against the generated contract (``frontend_contract/openapi.json``).

For handler tests::

    from ponte.contract.validate import assert_conforms
    assert_conforms("POST", "/webhooks/evolution/<id>", response.status_code, response.json())

The path may be concrete; it is matched against the routes' templates.
"""

from __future__ import annotations

import functools
import json
import re
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator

from ponte.contract.schemas import ContractError

OPENAPI = Path(__file__).resolve().parents[2] / "frontend_contract" / "openapi.json"


@functools.cache
def _document() -> dict[str, Any]:
    document: dict[str, Any] = json.loads(OPENAPI.read_text())
    return document


def _template_regex(template: str) -> re.Pattern[str]:
    parts = re.split(r"(\{[^}]+\})", template)
    return re.compile("^" + "".join("[^/]+" if p.startswith("{") else re.escape(p) for p in parts) + "$")


def response_schema(method: str, path: str, status: int) -> dict[str, Any]:
    document = _document()
    candidates = [t for t in document["paths"] if _template_regex(t).match(path)]
    # the most literal template wins (/deeplinks/resolve over /deeplinks/{id})
    candidates.sort(key=lambda t: t.count("{"))
    for template in candidates:
        operation = document["paths"][template].get(method.lower())
        if operation is None:
            continue
        response = operation["responses"].get(str(status))
        if response is None:
            raise ContractError(f"{method} {template} does not declare status {status}")
        schema: dict[str, Any] = response["content"]["application/json"]["schema"]
        return {**schema, "components": document["components"]}
    raise ContractError(f"no route of the contract matches {method} {path}")


def assert_conforms(method: str, path: str, status: int, body: Any) -> None:
    """Raise ContractError naming every way ``body`` breaks the declared schema."""
    validator = Draft202012Validator(response_schema(method, path, status))
    errors = sorted(validator.iter_errors(body), key=lambda e: list(e.path))
    if errors:
        details = "; ".join(f"{'/'.join(map(str, e.path)) or '<root>'}: {e.message}" for e in errors)
        raise ContractError(f"{method} {path} {status}: {details}")
