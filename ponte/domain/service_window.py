"""Meta's customer-service window (no I/O).

On the official Cloud API a business may send free-form messages for 24 hours after the
user's last message; outside the window only approved templates go (Meta answers 131047
otherwise). A new user message opens it again; the business's own messages never do.
The unofficial gateways have no window.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from ponte.domain.events import Provider

SERVICE_WINDOW = timedelta(hours=24)


def window_applies(provider: Provider) -> bool:
    return provider is Provider.CLOUD


def window_open(last_inbound_at: datetime | None, now: datetime) -> bool:
    """True while a free-form message may go: within 24 h of the user's last message."""
    return last_inbound_at is not None and now - last_inbound_at < SERVICE_WINDOW


def template_route(conversation_id: str | None) -> str:
    """Where a client sends a template instead (a virtual conversation's first message included)."""
    return f"/conversations/{conversation_id}/templates" if conversation_id else "/conversations/templates"
