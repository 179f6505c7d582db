"""The inbox read API: query strings checked (400 with a machine code), pages cut, cursors made."""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping
from datetime import datetime

from ponte.domain.identity import canonical_phone
from ponte.domain.inbox import (
    ContactPage,
    ConversationDetail,
    ConversationPage,
    InstanceList,
    LeadPage,
    MessagePage,
    ReadReceipt,
    SearchPage,
)
from ponte.domain.leads import phone_variants
from ponte.domain.lifecycle import State
from ponte.domain.text import clean_text
from ponte.ports.clock import Clock
from ponte.ports.inbox import Claims, ContactQuery, InboxQuery, InboxReader, LeadQuery
from ponte.services.exceptions import BadRequestError, NotFoundError
from ponte.services.paging import Key, choice_param, decode_cursor, encode_cursor, id_param, page_limit, time_param

STATUSES = frozenset({"open", "closed"})
STATES = frozenset(s.value for s in State)
PRIORITIES = frozenset({"low", "medium", "high", "critical"})
SLA_STATES = frozenset({"breached", "due_soon"})
LEAD_STAGES = frozenset({"new", "open", "won", "lost"})
LEAD_SOURCES = frozenset({"organic", "ctwa_ad", "search", "deep_link"})
MAX_QUERY_CHARS = 200


class InboxService:
    def __init__(self, reader: InboxReader, *, clock: Clock | None = None) -> None:
        self._reader = reader
        self._clock = clock or Clock()

    def conversations(self, claims: Claims, params: Mapping[str, str]) -> ConversationPage:
        unread = params.get("unread") or None
        if unread not in (None, "true", "false"):
            raise BadRequestError("unread must be true or false", code="invalid_unread")
        cursor = params.get("cursor")
        query = InboxQuery(
            now=self._clock.now(),
            status=choice_param(params, "status", STATUSES),
            priority=choice_param(params, "priority", PRIORITIES),
            instance_id=id_param(params.get("instance_id"), "instance_id"),
            sla=choice_param(params, "sla", SLA_STATES),  # type: ignore[arg-type]
            unread=unread == "true",
            lead_stage=choice_param(params, "lead_stage", LEAD_STAGES),
            updated_since=time_param(params, "updated_since"),
            state=choice_param(params, "state", STATES),
            team_id=id_param(params.get("team_id"), "team_id"),
            assigned_to=_assignee(params.get("assigned_to")),
            after=_uuid_key(decode_cursor(cursor)) if cursor else None,
            limit=page_limit(params),
        )
        rows = self._reader.conversations(claims, query)
        items, more = rows[: query.limit], len(rows) > query.limit
        next_cursor = encode_cursor(items[-1].last_activity_at, items[-1].id) if more else None
        return ConversationPage(items=items, next_cursor=next_cursor)

    def conversation(self, claims: Claims, conversation_id: str) -> ConversationDetail:
        found = self._reader.conversation(claims, _conversation_id(conversation_id), self._clock.now())
        if found is None:
            raise NotFoundError("no such conversation", code="conversation_not_found")
        return found

    def messages(self, claims: Claims, conversation_id: str, params: Mapping[str, str]) -> MessagePage:
        limit = page_limit(params)
        before = params.get("before")
        rows = self._reader.messages(
            claims, _conversation_id(conversation_id), _uuid_key(decode_cursor(before)) if before else None, limit
        )
        if rows is None:
            raise NotFoundError("no such conversation", code="conversation_not_found")
        items, more = rows[:limit], len(rows) > limit
        return MessagePage(
            items=items, next_cursor=encode_cursor(items[-1].occurred_at, items[-1].id) if more else None
        )

    def mark_read(self, claims: Claims, conversation_id: str) -> ReadReceipt:
        receipt = self._reader.mark_read(claims, _conversation_id(conversation_id))
        if receipt is None:
            raise NotFoundError("no such conversation", code="conversation_not_found")
        return receipt

    def contacts(self, claims: Claims, params: Mapping[str, str]) -> ContactPage:
        text = _query_text(params, required=False)
        digits = "".join(ch for ch in text or "" if ch.isdigit())
        phones: tuple[str, ...] = ()
        if len(digits) >= 8:  # a number in any form: with or without +55, the area code, the 9th digit
            found = {p for form in (digits, "55" + digits) if (p := canonical_phone(form)) is not None}
            phones = tuple(sorted({v for p in found for v in phone_variants(p) if v.startswith("+")}))
        cursor = params.get("cursor")
        query = ContactQuery(
            text=fold(text) if text and len(digits) < len(text.replace(" ", "")) else None,
            phones=phones,
            digits=digits if len(digits) >= 4 else None,
            after=_uuid_key(decode_cursor(cursor)) if cursor else None,
            limit=page_limit(params),
        )
        rows = self._reader.contacts(claims, query)
        items, more = rows[: query.limit], len(rows) > query.limit
        return ContactPage(items=items, next_cursor=encode_cursor(items[-1].updated_at, items[-1].id) if more else None)

    def leads(self, claims: Claims, params: Mapping[str, str]) -> LeadPage:
        cursor = params.get("cursor")
        query = LeadQuery(
            stage=choice_param(params, "stage", LEAD_STAGES),
            source=choice_param(params, "source", LEAD_SOURCES),
            score_min=_score(params, "score_min"),
            score_max=_score(params, "score_max"),
            after=_uuid_key(decode_cursor(cursor)) if cursor else None,
            limit=page_limit(params),
        )
        rows = self._reader.leads(claims, query)
        items, more = rows[: query.limit], len(rows) > query.limit
        return LeadPage(items=items, next_cursor=encode_cursor(items[-1].created_at, items[-1].id) if more else None)

    def instances(self, claims: Claims) -> InstanceList:
        return InstanceList(items=self._reader.instances(claims))

    def search(self, claims: Claims, params: Mapping[str, str]) -> SearchPage:
        text = _query_text(params, required=True)
        assert text is not None
        limit = page_limit(params, default=20)
        cursor = params.get("cursor")
        before = _uuid_key(decode_cursor(cursor)) if cursor else None
        rows = self._reader.search(claims, text, before, limit, self._clock.now())
        items, more = rows[:limit], len(rows) > limit
        last = items[-1].message if items else None
        return SearchPage(items=items, next_cursor=encode_cursor(last.occurred_at, last.id) if more and last else None)


def _assignee(value: str | None) -> str | None:
    """``me``, ``none`` (nobody has it) or a user id."""
    if not value or value in ("me", "none"):
        return value or None
    return id_param(value, "assigned_to")


def fold(text: str) -> str:
    """Lower case without accents, as ``public.search_folded`` folds names in SQL."""
    decomposed = unicodedata.normalize("NFKD", text.lower())
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch)).strip()


def _query_text(params: Mapping[str, str], *, required: bool) -> str | None:
    text = clean_text((params.get("q") or "").strip(), MAX_QUERY_CHARS + 1)
    if not text:
        if required:
            raise BadRequestError("q is required", code="invalid_query")
        return None
    if len(text) > MAX_QUERY_CHARS:
        raise BadRequestError(f"q must be at most {MAX_QUERY_CHARS} characters", code="invalid_query")
    return text


def _score(params: Mapping[str, str], name: str) -> int | None:
    value = params.get(name)
    if not value:
        return None
    if not value.isdigit() or not 0 <= int(value) <= 100:
        raise BadRequestError(f"{name} must be 0 to 100", code=f"invalid_{name}")
    return int(value)


def _conversation_id(value: str) -> str:
    found = id_param(value, "conversation_id")
    if found is None:
        raise BadRequestError("conversation_id is not an id", code="invalid_conversation_id")
    return found


def _uuid_key(cursor: tuple[datetime, Key]) -> tuple[datetime, str]:
    at, key = cursor
    if not isinstance(key, str) or id_param(key, "cursor") is None:
        raise BadRequestError("cursor is not one this API gave", code="invalid_cursor")
    return at, key
