"""The inbox read API: query strings checked (400 with a machine code), pages cut, cursors made."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from ponte.domain.inbox import (
    ConversationDetail,
    ConversationPage,
    MessagePage,
    ReadReceipt,
)
from ponte.ports.clock import Clock
from ponte.ports.inbox import Claims, InboxQuery, InboxReader
from ponte.services.exceptions import BadRequestError, NotFoundError
from ponte.services.paging import Key, choice_param, decode_cursor, encode_cursor, id_param, page_limit, time_param

STATUSES = frozenset({"open", "closed"})
PRIORITIES = frozenset({"low", "medium", "high", "critical"})
SLA_STATES = frozenset({"breached", "due_soon"})
LEAD_STAGES = frozenset({"new", "open", "won", "lost"})


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
