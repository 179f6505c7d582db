"""Privacy rules applied at intake, before anything is stored or enqueued."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence

from pydantic import BaseModel, ConfigDict

from ponte.domain.events import (
    CanonicalEvent,
    ChatKind,
    ContactsEvent,
    ContactUpdate,
    Identity,
    MessageEvent,
    StatusEvent,
)
from ponte.domain.identity import canonical_phone, identity_of


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
    reason = _identity_drop_reason(chat, policy)
    if reason is not None:
        return reason
    if isinstance(event, MessageEvent) and event.locked_chat:
        return "locked_chat"
    if is_hidden(identities_screened(event)):
        return "hidden_contact"
    return None


def identities_screened(event: CanonicalEvent) -> tuple[str, ...]:
    """Every identity ``screen`` may check the hidden list for (so one look-up can serve them all)."""
    if isinstance(event, ContactsEvent):
        return tuple(i for c in event.contacts for i in (c.identity.key, *c.identity.aliases))
    chat = event.chat if isinstance(event, MessageEvent | StatusEvent) else None
    if chat is None:
        return ()
    identities = (chat.key, *chat.aliases)
    if isinstance(event, MessageEvent) and event.sender is not None:
        identities += (event.sender.key, *event.sender.aliases)
    return identities


def screen(
    event: CanonicalEvent, policy: PrivacyPolicy, is_hidden: Callable[[tuple[str, ...]], bool]
) -> tuple[CanonicalEvent | None, tuple[str, ...]]:
    """The part of ``event`` that may be stored, and why the rest was dropped.

    Contact updates are screened one contact at a time (a sync carries many people,
    groups among them); every other event passes or drops as a whole.
    """
    if not isinstance(event, ContactsEvent):
        reason = drop_reason(event, policy, is_hidden)
        return (event, ()) if reason is None else (None, (reason,))
    kept: list[ContactUpdate] = []
    reasons: list[str] = []
    for contact in event.contacts:
        reason = _identity_drop_reason(contact.identity, policy)
        if reason is None and is_hidden((contact.identity.key, *contact.identity.aliases)):
            reason = "hidden_contact"
        if reason is None:
            kept.append(contact)
        else:
            reasons.append(reason)
    if not kept:
        return None, tuple(reasons)
    if not reasons:
        return event, ()
    return event.model_copy(update={"contacts": tuple(kept)}), tuple(reasons)


def screen_all(
    events: Sequence[CanonicalEvent], policy: PrivacyPolicy, hidden: frozenset[str]
) -> tuple[list[CanonicalEvent], list[str]]:
    """What a webhook's events become at the gate: the parts that may be stored, and every drop reason.

    ``hidden`` holds the hidden identities among ``identities_screened`` of the events (one look-up).
    """

    def is_hidden(ids: tuple[str, ...]) -> bool:
        return not hidden.isdisjoint(ids)

    kept: list[CanonicalEvent] = []
    dropped: list[str] = []
    for event in events:
        passed, reasons = screen(event, policy, is_hidden)
        if passed is not None:
            kept.append(passed)
        dropped.extend(reasons)
    return kept, dropped


def _identity_drop_reason(identity: Identity, policy: PrivacyPolicy) -> str | None:
    drop, reason = _kind_rules(policy).get(identity.chat_kind, (False, ""))
    return reason if drop else None


def _kind_rules(policy: PrivacyPolicy) -> dict[ChatKind, tuple[bool, str]]:
    return {
        ChatKind.GROUP: (policy.drop_groups, "group_chat"),
        ChatKind.BROADCAST: (policy.drop_broadcasts, "broadcast_list"),
        ChatKind.STATUS: (policy.drop_status, "status_broadcast"),
        ChatKind.NEWSLETTER: (policy.drop_newsletters, "newsletter"),
    }


_JID_IN_TEXT = re.compile(r"([0-9]{5,20})(?::[0-9]{1,3})?@(s\.whatsapp\.net|c\.us|lid)")
_EXCLUDED_JID_IN_TEXT = re.compile(r"@(g\.us|broadcast|newsletter)\b")
_DIGIT_RUN = re.compile(r"(?<![0-9])[0-9]{10,13}(?![0-9])")


def identities_mentioned(raw: str) -> tuple[str, ...]:
    """Every identity a raw payload may concern: its JIDs, their phones and aliases, and any
    digit run that reads as a phone. Deliberately broad: it decides what is NOT kept."""
    found: set[str] = set()
    for user, server in _JID_IN_TEXT.findall(raw):
        identity = identity_of(f"{user}@{server}")
        found.update((identity.key, *identity.aliases))
    for run in _DIGIT_RUN.findall(raw):
        phone = canonical_phone(f"{run}@s.whatsapp.net")
        if phone:
            found.add(phone)
    return tuple(sorted(found))


def may_keep_raw(raw: str, policy: PrivacyPolicy, is_hidden: Callable[[tuple[str, ...]], bool]) -> bool:
    """Whether a payload that could not be normalized may be kept (quarantined) at all:
    never when it names a hidden contact, nor a group / broadcast / newsletter the policy drops."""
    for match in _EXCLUDED_JID_IN_TEXT.finditer(raw):
        server = match.group(1)
        if server == "g.us" and policy.drop_groups:
            return False
        if server == "newsletter" and policy.drop_newsletters:
            return False
        if server == "broadcast" and (policy.drop_broadcasts or policy.drop_status):
            return False
    identities = identities_mentioned(raw)
    return not (identities and is_hidden(identities))
