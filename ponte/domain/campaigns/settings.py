"""A tenant's campaign settings (no I/O): stored as one JSON document, validated here."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from ponte.domain.campaigns.message import DEFAULT_OPT_OUT_CONFIRMATION, DEFAULT_OPT_OUT_INSTRUCTION
from ponte.domain.campaigns.opt_out import (
    DEFAULT_OPT_IN_WORDS,
    DEFAULT_OPT_OUT_WORDS,
    MAX_WORD_CHARS,
    MAX_WORDS,
    normalize_words,
)
from ponte.domain.campaigns.quiet_hours import QuietHours
from ponte.domain.campaigns.rewrite import MAX_RULES
from ponte.domain.campaigns.throttle import Channel, ThrottlePolicy, policy_for

DEFAULT_OPT_IN_CONFIRMATION = "Combinado! Você voltará a receber nossas mensagens."
Notice = Annotated[str, StringConstraints(min_length=1, max_length=300, strip_whitespace=True)]
Word = Annotated[str, StringConstraints(min_length=1, max_length=MAX_WORD_CHARS, strip_whitespace=True)]
Phrase = Annotated[str, StringConstraints(min_length=2, max_length=60, strip_whitespace=True)]


class CampaignSettings(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    opt_out_instruction: Notice = DEFAULT_OPT_OUT_INSTRUCTION  # appended to every campaign message
    opt_out_confirmation: Notice = DEFAULT_OPT_OUT_CONFIRMATION
    opt_in_confirmation: Notice = DEFAULT_OPT_IN_CONFIRMATION
    opt_out_words: tuple[Word, ...] = Field(default=DEFAULT_OPT_OUT_WORDS, min_length=1, max_length=MAX_WORDS)
    opt_in_words: tuple[Word, ...] = Field(default=DEFAULT_OPT_IN_WORDS, max_length=MAX_WORDS)
    quiet_hours: QuietHours = QuietHours()
    # a reply this long after a campaign message counts as the campaign's
    reply_window_hours: int = Field(default=72, ge=1, le=720)
    # the business portfolio's daily unique-recipient tier on the Cloud API
    cloud_tier: Literal[250, 2000, 10000, 100000, "unlimited"] = 250
    # messages a day per WhatsApp number on the unofficial gateways (WPPConnect, Evolution)
    unofficial_daily_cap: int = Field(default=400, ge=1, le=5000)
    # phrases a model's rewrite may not add (beside the built-in promises)
    forbidden_phrases: tuple[Phrase, ...] = Field(default=(), max_length=MAX_RULES)

    def keywords(self) -> tuple[str, ...]:
        return normalize_words(self.opt_out_words)

    def opt_in_keywords(self) -> tuple[str, ...]:
        return normalize_words(self.opt_in_words)

    def policy(self, channel: Channel, *, scale: float = 1.0) -> ThrottlePolicy:
        return policy_for(channel, cloud_tier=self.tier(), daily_cap=self.unofficial_daily_cap, scale=scale)

    def tier(self) -> int | None:
        return None if self.cloud_tier == "unlimited" else self.cloud_tier
