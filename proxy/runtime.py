"""The proxy's per-process state, shared by the app and its blueprints: the container (built on
first use, kept for warm invocations) and the caller of a user-facing route."""

from __future__ import annotations

from chalice.app import Request

from ponte.services.exceptions import UnauthorizedError
from proxy.bootstrap import ProxyContainer, bootstrap
from proxy.http import authenticate

_container: ProxyContainer | None = None


def container() -> ProxyContainer:
    """Created on first use and kept for warm invocations; nothing connects at import time."""
    global _container  # noqa: PLW0603
    if _container is None:
        _container = bootstrap()
    return _container


def set_container(value: ProxyContainer | None) -> None:
    global _container  # noqa: PLW0603
    _container = value


def caller(request: Request | None) -> dict[str, object]:
    """The verified claims of the user calling a user-facing route."""
    verifier = container().verifier
    if verifier is None:  # no key material configured: refuse rather than trust
        raise UnauthorizedError("invalid or missing access token")
    return authenticate(request, verifier)
