"""The boundary between Chalice and the services: authentication and error rendering.

Errors render as ``{"code": <machine code>, "message": <reason>}`` with the
error's status; anything unexpected becomes a generic 500 without detail.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from chalice.app import Request, Response
from pydantic import BaseModel

from ponte.adapters.jwt_verifier import InvalidTokenError, JwtVerifier, bearer_token
from ponte.adapters.logs import make_logger
from ponte.services.exceptions import BadRequestError, ServiceError, UnauthorizedError
from ponte.services.json_body import parse_json_body

logger = make_logger("ponte-proxy")

F = TypeVar("F", bound=Callable[..., Any])


def json_response(status: int, body: Any, headers: Mapping[str, str] | None = None) -> Response:
    text = body.model_dump_json() if isinstance(body, BaseModel) else json.dumps(body, default=str)
    return Response(body=text, status_code=status, headers={"Content-Type": "application/json", **(headers or {})})


def raw_body(request: Request | None) -> bytes:
    raw = request.raw_body if request is not None else b""
    return raw if isinstance(raw, bytes) else (raw or "").encode()


def json_value(request: Request | None, *, required: bool = True) -> Any:
    """The request's JSON (bounded parse); ``None`` for no body when not ``required``, else 400."""
    raw = raw_body(request)
    if not raw:
        if required:
            raise BadRequestError("a JSON body is required", code="invalid_json")
        return None
    return parse_json_body(raw)


def json_object(request: Request | None) -> dict[str, Any]:
    """The request's JSON object (``{}`` for no body), or 400 with a machine code."""
    body = json_value(request, required=False)
    if body is None:
        return {}
    if not isinstance(body, dict):
        raise BadRequestError("body must be a JSON object", code="invalid_json")
    return body


def query_params(request: Request | None) -> dict[str, str]:
    return dict(request.query_params or {}) if request is not None else {}


def error_response(exc: ServiceError) -> Response:
    data = getattr(exc, "data", None)
    body: dict[str, Any] = {"code": exc.code, "message": exc.message}
    if isinstance(data, dict) and data:
        body["data"] = {str(k): str(v) for k, v in data.items()}
    return json_response(exc.status_code, body)


def api(fn: F) -> F:
    """Render service errors; never let an exception's detail reach the client."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except ServiceError as exc:
            return error_response(exc)
        except Exception:
            logger.exception("unhandled error in %s", fn.__name__)
            return json_response(500, {"code": "internal_error", "message": "internal error"})

    return wrapper  # type: ignore[return-value]


def authenticate(request: Request | None, verifier: JwtVerifier) -> dict[str, Any]:
    """The caller's verified Supabase claims, or 401 with no detail."""
    headers = request.headers if request is not None else {}
    try:
        return verifier.verify(bearer_token(headers.get("authorization")))
    except InvalidTokenError as exc:
        raise UnauthorizedError("invalid or missing access token") from exc
