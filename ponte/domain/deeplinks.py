"""Marketing deep links: a phone and a reminder text, optionally signed by the tenant.

URL format (version 1), query parameters of the CRM route that opens a conversation::

    ?v=1&t=<tenant uuid>&p=<phone, any form>&m=<reminder text>[&exp=<unix seconds>&sig=<signature>]

``sig`` is ``base64url(HMAC-SHA256(tenant deep-link key, canonical))`` without padding, where
``canonical`` is ``"ponte-deeplink-v1\\n<t>\\n<p>\\n<m>\\n<exp>"`` with the values exactly as
they appear decoded in the URL. A signed link carries ``exp``; an unsigned one is only
honoured for a logged-in member of the tenant, who may as well have typed it.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from urllib.parse import urlencode

from pydantic import BaseModel, ConfigDict, Field

VERSION = "1"
MAX_TEXT_CHARS = 1000


class DeepLink(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    tenant_id: str
    phone: str = Field(min_length=1, max_length=64)
    text: str = Field(default="", max_length=MAX_TEXT_CHARS)
    expires_at: int | None = None  # unix seconds
    signature: str | None = None

    def canonical(self) -> bytes:
        exp = "" if self.expires_at is None else str(self.expires_at)
        return "\n".join(("ponte-deeplink-v1", self.tenant_id, self.phone, self.text, exp)).encode()

    def query(self) -> str:
        params: dict[str, str] = {"v": VERSION, "t": self.tenant_id, "p": self.phone, "m": self.text}
        if self.expires_at is not None:
            params["exp"] = str(self.expires_at)
        if self.signature:
            params["sig"] = self.signature
        return urlencode(params)


def signature(link: DeepLink, key: bytes) -> str:
    digest = hmac.new(key, link.canonical(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def sign(link: DeepLink, key: bytes) -> DeepLink:
    if link.expires_at is None:
        raise ValueError("a signed link must expire")
    return link.model_copy(update={"signature": signature(link, key)})


def verify(link: DeepLink, key: bytes, *, now: float) -> str | None:
    """None when the signature is valid and not expired, else a machine reason."""
    if not link.signature:
        return "unsigned"
    if link.expires_at is None:
        return "missing_expiry"
    if not hmac.compare_digest(signature(link, key), link.signature):
        return "bad_signature"
    if link.expires_at < now:
        return "expired"
    return None
