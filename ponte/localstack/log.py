"""The local stack's own log lines (supervision, pollers, gateway wiring): JSON like the services'."""

from __future__ import annotations

from ponte.adapters.logs import make_logger

logger = make_logger("ponte-local")
