"""The OpenAPI 3.1 document of the proxy's REST surface, from its Chalice routes and the
models each route declares with ``@responds``."""

from __future__ import annotations

import inspect
from typing import Any

from chalice.app import Chalice
from pydantic import BaseModel

from ponte.contract.declare import PlainText, RouteContract, contract_of, models_of
from ponte.contract.schemas import REF_TEMPLATE, ContractError, model_schema, split_defs

_SECURITY: dict[str, list[dict[str, list[str]]]] = {
    "bearer": [{"supabaseJwt": []}],
    # a scraper's token, or an owner's / admin's Supabase JWT
    "metrics": [{"metricsToken": []}, {"supabaseJwt": []}],
    # the header, Meta's signature of the body (Cloud API), or the secret as the last path segment
    "webhook_secret": [{"webhookSecret": []}, {"hubSignature": []}, {}],
    "none": [],
}


def route_contracts(app: Chalice) -> list[tuple[str, str, Any, RouteContract]]:
    """(path, method, view, contract) of every route; a route without a contract is an error."""
    found = []
    missing = []
    for path in sorted(app.routes):
        for method in sorted(app.routes[path]):
            entry = app.routes[path][method]
            contract = contract_of(entry.view_function)
            if contract is None:
                missing.append(f"{method} {path}")
                continue
            found.append((path, method, entry, contract))
    if missing:
        raise ContractError(
            "routes without a declared contract: "
            + ", ".join(missing)
            + " — decorate each view with @responds({status: Model, ...}) from ponte.contract.declare"
            " (under @app.route), with pydantic models (extra='forbid') of its response bodies"
        )
    return found


def build_openapi(app: Chalice, *, title: str, version: str) -> tuple[dict[str, Any], set[type[BaseModel]]]:
    """The document, and every model it references (their schemas go to ``components``)."""
    models: set[type[BaseModel]] = set()
    paths: dict[str, dict[str, Any]] = {}
    for path, method, entry, contract in route_contracts(app):
        view = entry.view_function
        doc = inspect.getdoc(view) or ""
        operation: dict[str, Any] = {
            "operationId": entry.view_name,
            "summary": contract.summary or (doc.splitlines()[0] if doc else entry.view_name),
            "security": _SECURITY[contract.auth],
            "responses": {},
        }
        if doc:
            operation["description"] = doc
        if entry.view_args:
            operation["parameters"] = [
                {"name": arg, "in": "path", "required": True, "schema": {"type": "string"}} for arg in entry.view_args
            ]
        if contract.request is not None:
            models.add(contract.request)
            operation["requestBody"] = {
                "required": True,
                "content": {"application/json": {"schema": _ref(contract.request)}},
            }
        for status in sorted(contract.responses):
            bodies = models_of(contract.responses[status])
            if bodies == (PlainText,):
                operation["responses"][str(status)] = {
                    "description": "text/plain",
                    "content": {"text/plain": {"schema": {"type": "string"}}},
                }
                continue
            models.update(bodies)
            schema = _ref(bodies[0]) if len(bodies) == 1 else {"oneOf": [_ref(m) for m in bodies]}
            media_type = contract.media_type if 200 <= status < 300 else "application/json"
            operation["responses"][str(status)] = {
                "description": " / ".join(m.__name__ for m in bodies),
                "content": {media_type: {"schema": schema}},
            }
        paths.setdefault(path, {})[method.lower()] = operation
    components: dict[str, Any] = {}
    for model in sorted(models, key=lambda m: m.__name__):
        body, defs = split_defs(model_schema(model, REF_TEMPLATE))
        for name, schema in (*defs.items(), (model.__name__, body)):
            if components.setdefault(name, schema) != schema:
                raise ContractError(f"two different models are both named {name!r}; rename one")
    document = {
        "openapi": "3.1.0",
        "info": {"title": title, "version": version},
        "paths": paths,
        "components": {
            "schemas": dict(sorted(components.items())),
            "securitySchemes": {
                "supabaseJwt": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"},
                "webhookSecret": {"type": "apiKey", "in": "header", "name": "x-ponte-webhook-secret"},
                "metricsToken": {"type": "http", "scheme": "bearer"},
                "hubSignature": {"type": "apiKey", "in": "header", "name": "x-hub-signature-256"},
            },
        },
    }
    return document, models


def _ref(model: type[BaseModel]) -> dict[str, str]:
    return {"$ref": REF_TEMPLATE.format(model=model.__name__)}
