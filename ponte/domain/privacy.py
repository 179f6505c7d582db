"""Privacy rules applied at intake, before anything is stored or enqueued."""

from __future__ import annotations

from collections.abc import Callable

from pydantic import BaseModel, ConfigDict

from ponte.domain.events import CanonicalEvent, ChatKind, MessageEvent, StatusEvent


class PrivacyPolicy(BaseModel):
    """Per-tenant intake settings; groups, broadcasts, status and newsletters are dropped by default."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    drop_groups: bool = True
    drop_broadcasts: bool = True
    drop_status: bool = True
    drop_newsletters: bool = True


def drop_reason(
    event: CanonicalEvent, policy: PrivacyPolicy, is_hidden: Callable[[tuple[str, ...]], bool]
) -> str | None:
    """Why ``event`` must not be stored, or None when it may pass."""
    chat = event.chat if isinstance(event, MessageEvent | StatusEvent) else None
    if chat is None:
        return None
    kind_rules = {
        ChatKind.GROUP: (policy.drop_groups, "group_chat"),
        ChatKind.BROADCAST: (policy.drop_broadcasts, "broadcast_list"),
        ChatKind.STATUS: (policy.drop_status, "status_broadcast"),
        ChatKind.NEWSLETTER: (policy.drop_newsletters, "newsletter"),
    }
    drop, reason = kind_rules.get(chat.chat_kind, (False, ""))
    if drop:
        return reason
    if isinstance(event, MessageEvent) and event.locked_chat:
        return "locked_chat"
    identities = (chat.key, *chat.aliases)
    if isinstance(event, MessageEvent) and event.sender is not None:
        identities += (event.sender.key, *event.sender.aliases)
    if is_hidden(identities):
        return "hidden_contact"
    return None
