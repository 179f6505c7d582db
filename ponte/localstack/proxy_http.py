"""The local proxy's HTTP server and request handler: Chalice's local server with a listen backlog
for load, its request log without secrets or phone numbers, and the reference web inbox's files
under ``/inbox`` (``ponte.localstack.inbox_site``).

Chalice's local server logs every request line, and a WPPConnect webhook carries its secret
as a path segment (``/webhooks/{provider}/{instance}/{secret}``): that segment is replaced,
and phones in paths and query strings are masked like every other log line.
"""

from __future__ import annotations

import re
from typing import Any, ClassVar

from chalice.local import ChaliceRequestHandler, ThreadedHTTPServer

from ponte.domain.masking import mask_phones
from ponte.localstack.inbox_site import InboxSite, SiteResponse

_PATH_SECRET = re.compile(r"(/webhooks/[^/\s?]+/[^/\s?]+/)[^/\s?]+")


def redact_request_line(text: str) -> str:
    return mask_phones(_PATH_SECRET.sub(r"\1[secret]", text))


class RedactingRequestHandler(ChaliceRequestHandler):
    # The response's headers and body are separate writes: with Nagle's algorithm on, the body
    # waits for the client's delayed ACK of the headers, 40 ms on Linux, on every keep-alive request.
    disable_nagle_algorithm = True
    # one line per request on stderr beside the JSON logs: only with ``ponte up --verbose``
    log_requests = False
    # the reference web inbox, served beside the API (same origin: no CORS)
    site: ClassVar[InboxSite | None] = None

    def do_GET(self) -> None:
        if self.site is not None and self.site.serves(self.path):
            self._send_site(self.site.respond(self.path), body=True)
        else:
            self._generic_handle()

    def do_HEAD(self) -> None:
        if self.site is not None and self.site.serves(self.path):
            self._send_site(self.site.respond(self.path), body=False)
        else:
            self._generic_handle()

    def _send_site(self, response: SiteResponse, *, body: bool) -> None:
        self.send_response(response.status)
        for name, value in response.headers.items():
            self.send_header(name, value)
        self.end_headers()
        if body:
            self.wfile.write(response.body)

    def log_message(self, format: str, *args: Any) -> None:
        if not self.log_requests:
            return
        super().log_message(format, *(redact_request_line(a) if isinstance(a, str) else a for a in args))


def request_handler(*, verbose: bool, site: InboxSite | None = None) -> type[RedactingRequestHandler]:
    """The proxy's handler class: request lines logged only when ``verbose``; ``site`` under /inbox."""
    return type("LocalProxyRequestHandler", (RedactingRequestHandler,), {"log_requests": verbose, "site": site})


class ProxyHTTPServer(ThreadedHTTPServer):
    # socketserver's listen backlog is 5: a burst of new connections (a gateway's or a load
    # test's pool opening at once) overflowed it, and connections were dropped or reset
    request_queue_size = 1024
