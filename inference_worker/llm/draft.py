"""What the LLM writes, and how a broken or cut-off answer is repaired or rejected."""

from __future__ import annotations

import re
from dataclasses import dataclass

from pydantic import BaseModel, ConfigDict, Field, ValidationError

# Short replies: fewer tokens (a 135M model with a grammar costs ~20 ms per token on one
# thread) and less room to ramble; the contract allows up to 240.
MAX_DRAFT_CHARS = 160
# The grammar guarantees syntax, not termination: leave room for the JSON around the reply.
MAX_TOKENS = MAX_DRAFT_CHARS + 60
MIN_REPLY_CHARS = 8

_SENTENCE_END = re.compile(r"[.!?…](?=\s|$)")


class ReplyDraft(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reply: str = Field(min_length=1, max_length=MAX_DRAFT_CHARS)


@dataclass(frozen=True)
class Draft:
    reply: str | None
    # why a template replaced the LLM's reply: "timeout", "invalid", "error"; None when it did not
    fallback: str | None = None


def clean(reply: str) -> str | None:
    text = " ".join(reply.split())
    return text if len(text) >= MIN_REPLY_CHARS else None


def parse(raw: str, *, truncated: bool) -> str | None:
    """The reply in ``raw``; a truncated answer is cut at its last full sentence and closed."""
    try:
        return clean(ReplyDraft.model_validate_json(raw).reply)
    except ValidationError:
        if not truncated:
            return None
    opening = raw.find('"reply"')
    start = raw.find('"', opening + len('"reply"') + 1) if opening >= 0 else -1
    if start < 0:
        return None
    body = raw[start + 1 :]
    ends = [m.end() for m in _SENTENCE_END.finditer(body)]
    if not ends:
        return None
    candidate = body[: ends[-1]].rstrip("\\")
    try:
        return clean(ReplyDraft.model_validate_json('{"reply": "' + candidate + '"}').reply)
    except ValidationError:
        return None
