"""When a running campaign pauses itself (no I/O).

- Meta says the number is being throttled for spam (131048) or the user reached the marketing
  limit (131049): continuing makes it worse, so the campaign pauses at the first one;
- the instance's session is logged out, or unreachable several times in a row: every further
  send would fail (and a WhatsApp number that keeps reconnecting while blasting looks banned);
- too many of the last sends failed (the audience is stale, the number is blocked by many).

A person resumes; the reason stays on the campaign.
"""

from __future__ import annotations

from collections.abc import Sequence

from pydantic import BaseModel, ConfigDict, Field

# Machine codes of the send path (ponte.ports.gateway / ponte.domain.meta_errors)
META_PAUSE_CODES = frozenset({"spam_rate_limited", "marketing_limit"})  # 131048, 131049
DISCONNECT_CODES = frozenset({"session_not_logged", "gateway_auth_failed", "gateway_not_configured"})
UNREACHABLE_CODES = frozenset({"gateway_unavailable", "gateway_timeout"})
OPT_OUT_CODES = frozenset({"marketing_opt_out"})  # 131050: the user stopped marketing messages


class AutoPauseRules(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    window: int = Field(default=20, ge=1, le=1000)  # the last N send outcomes of the campaign
    min_outcomes: int = Field(default=10, ge=1, le=1000)  # before the failure rate counts
    max_failure_rate: float = Field(default=0.3, gt=0, le=1)
    max_unreachable_in_row: int = Field(default=3, ge=1, le=100)


class SendOutcome(BaseModel):
    """One send of the campaign: ``error_code`` None when it went out."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    error_code: str | None = None

    @property
    def failed(self) -> bool:
        # an opted-out recipient is the user's choice, not a failing campaign
        return self.error_code is not None and self.error_code not in OPT_OUT_CODES


class PauseReason(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    code: str  # meta_limit | instance_disconnected | instance_unreachable | failure_rate
    detail: str


DEFAULT_RULES = AutoPauseRules()


def pause_reason(recent: Sequence[SendOutcome], rules: AutoPauseRules = DEFAULT_RULES) -> PauseReason | None:
    """Whether the campaign must pause after these outcomes (oldest first, the newest last)."""
    if not recent:
        return None
    latest = recent[-1].error_code
    if latest in META_PAUSE_CODES:
        return PauseReason(code="meta_limit", detail=f"Meta limitou o número ({latest})")
    if latest in DISCONNECT_CODES:
        return PauseReason(code="instance_disconnected", detail=f"a sessão do WhatsApp caiu ({latest})")
    streak = 0
    for outcome in reversed(recent):
        if outcome.error_code not in UNREACHABLE_CODES:
            break
        streak += 1
    if streak >= rules.max_unreachable_in_row:
        return PauseReason(code="instance_unreachable", detail=f"{streak} envios seguidos sem resposta do gateway")
    window = list(recent)[-rules.window :]
    if len(window) >= rules.min_outcomes:
        failed = sum(1 for outcome in window if outcome.failed)
        if failed / len(window) > rules.max_failure_rate:
            return PauseReason(code="failure_rate", detail=f"{failed} de {len(window)} envios recentes falharam")
    return None
