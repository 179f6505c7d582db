"""The local proxy's request log without secrets or phone numbers.

Chalice's local server logs every request line, and a WPPConnect webhook carries its secret
as a path segment (``/webhooks/{provider}/{instance}/{secret}``): that segment is replaced,
and phones in paths and query strings are masked like every other log line.
"""

from __future__ import annotations

import re
from typing import Any

from chalice.local import ChaliceRequestHandler

from ponte.domain.masking import mask_phones

_PATH_SECRET = re.compile(r"(/webhooks/[^/\s?]+/[^/\s?]+/)[^/\s?]+")


def redact_request_line(text: str) -> str:
    return mask_phones(_PATH_SECRET.sub(r"\1[secret]", text))


class RedactingRequestHandler(ChaliceRequestHandler):
    # The response's headers and body are separate writes: with Nagle's algorithm on, the body
    # waits for the client's delayed ACK of the headers, 40 ms on Linux, on every keep-alive request.
    disable_nagle_algorithm = True
    # one line per request on stderr beside the JSON logs: only with ``ponte up --verbose``
    log_requests = False

    def log_message(self, format: str, *args: Any) -> None:
        if not self.log_requests:
            return
        super().log_message(format, *(redact_request_line(a) if isinstance(a, str) else a for a in args))


def request_handler(*, verbose: bool) -> type[RedactingRequestHandler]:
    """The proxy's handler class: request lines logged only when ``verbose``."""
    if not verbose:
        return RedactingRequestHandler
    return type("VerboseRequestHandler", (RedactingRequestHandler,), {"log_requests": True})
