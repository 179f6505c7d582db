"""The reference web inbox on the local stack: its built files under ``/inbox`` on the proxy's port.

Same origin as the API, so the page calls the proxy without CORS; ``config.json`` tells it where
the realtime server is and the anon key (both public). The page's own routes (``conversa/<id>``,
``link?<deep link>``, ``admin/...``) all answer ``index.html``. The access token travels in the URL
fragment, which browsers never send, so it cannot reach this server or its log.
"""

from __future__ import annotations

import json
import mimetypes
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import unquote, urlsplit

INBOX_PATH = "/inbox"
# `make inbox` builds it here (frontend_contract/reference_inbox/build.mjs, base href /inbox/)
DEFAULT_DIST = Path(__file__).resolve().parents[2] / "frontend_contract" / "reference_inbox" / "dist"
_TYPES = {".js": "text/javascript", ".map": "application/json", ".css": "text/css", ".html": "text/html"}
NOT_BUILT = (
    "<!doctype html><html lang='pt-BR'><meta charset='utf-8'><title>Ponte</title>"
    "<h1>A caixa de entrada ainda não foi construída</h1><p>Rode <code>make inbox</code> e recarregue.</p></html>"
)


@dataclass(frozen=True)
class SiteResponse:
    status: int
    headers: dict[str, str]
    body: bytes = b""


@dataclass(frozen=True)
class InboxSite:
    """The built page and what it needs to know about the stack (public values only)."""

    realtime_url: str
    anon_key: str
    dist: Path = DEFAULT_DIST
    extra_config: dict[str, str] = field(default_factory=dict)

    def built(self) -> bool:
        return (self.dist / "index.html").is_file() and (self.dist / "app.js").is_file()

    def serves(self, raw_path: str) -> bool:
        path = urlsplit(raw_path).path
        return path == INBOX_PATH or path.startswith(INBOX_PATH + "/")

    def respond(self, raw_path: str) -> SiteResponse:
        path = unquote(urlsplit(raw_path).path)
        if path == INBOX_PATH:  # the page's relative URLs need the slash; browsers keep the #fragment
            return SiteResponse(302, {"Location": INBOX_PATH + "/", "Content-Length": "0"})
        rel = path.removeprefix(INBOX_PATH + "/")
        if rel == "config.json":
            return self._file(self.config_json(), ".json")
        if not self.built():
            return self._file(NOT_BUILT.encode(), ".html", status=503)
        asset = self._asset(rel)
        if asset is not None:
            return self._file(asset.read_bytes(), asset.suffix)
        if "." in rel.rsplit("/", 1)[-1]:  # a missing file, not one of the page's routes
            return self._file(b"not found", ".txt", status=404)
        return self._file((self.dist / "index.html").read_bytes(), ".html", page=True)

    def config_json(self) -> bytes:
        return json.dumps({"supabase_url": self.realtime_url, "anon_key": self.anon_key, **self.extra_config}).encode()

    def _asset(self, rel: str) -> Path | None:
        if not rel or rel.endswith("/"):
            return None
        root = self.dist.resolve()
        try:
            candidate = (root / rel).resolve()
            found = root in candidate.parents and candidate.is_file()  # no ../ out of dist
        except (OSError, ValueError):  # a NUL byte, a name too long: not a file of ours
            return None
        return candidate if found else None

    def _file(self, body: bytes, suffix: str, *, status: int = 200, page: bool = False) -> SiteResponse:
        kind = _TYPES.get(suffix) or mimetypes.types_map.get(suffix, "application/octet-stream")
        headers = {
            "Content-Type": f"{kind}; charset=utf-8" if kind.startswith("text/") or suffix == ".json" else kind,
            "Content-Length": str(len(body)),
            "Cache-Control": "no-cache",
            "X-Content-Type-Options": "nosniff",
        }
        if page:
            headers |= {"Content-Security-Policy": self._csp(), "Referrer-Policy": "no-referrer"}
        return SiteResponse(status, headers, body)

    def _csp(self) -> str:
        ws = self.realtime_url.replace("http://", "ws://", 1).replace("https://", "wss://", 1)
        return (
            f"default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
            f"connect-src 'self' {ws} {self.realtime_url}; frame-ancestors 'none'; base-uri 'self'"
        )
