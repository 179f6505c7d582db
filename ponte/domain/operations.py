"""A tenant's operations settings: the default team, the automatic messages (each off until the
tenant turns it on) with their pt-BR templates, and the timings of presence, reassignment and CSAT.

Templates take variables in braces: ``{nome}`` (the contact's name, or empty), ``{protocolo}``,
``{posicao}`` (queue position), ``{espera}`` (expected wait, e.g. "5 minutos"). Any other name in
braces is refused when the settings are saved."""

from __future__ import annotations

import re
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field, field_validator

from ponte.domain.alerts import AlertThresholds

TEMPLATE_VARIABLES = frozenset({"nome", "protocolo", "posicao", "espera"})
_VARIABLE = re.compile(r"\{([^{}]*)\}")
MAX_TEMPLATE_CHARS = 1000


class AutomaticKind(StrEnum):
    GREETING = "greeting"
    AWAY = "away"
    QUEUE_POSITION = "queue_position"
    CSAT_REQUEST = "csat_request"
    CSAT_THANKS = "csat_thanks"


def check_template(template: str) -> str:
    unknown = sorted(set(_VARIABLE.findall(template)) - TEMPLATE_VARIABLES)
    if unknown:
        raise ValueError(
            f"unknown template variables: {', '.join(unknown)} (known: {', '.join(sorted(TEMPLATE_VARIABLES))})"
        )
    if not template.strip():
        raise ValueError("a template cannot be empty")
    return template


def render(template: str, variables: dict[str, str]) -> str:
    """The template with its variables filled (a missing one renders empty); tidy spaces and commas."""
    text = _VARIABLE.sub(lambda m: variables.get(m.group(1), ""), template)
    text = re.sub(r"[ \t]+([,.!?])", r"\1", text)  # "Olá , " when the name is empty
    text = re.sub(r",([!?.])", r"\1", text)
    return re.sub(r"[ \t]{2,}", " ", text).strip()


class AutomaticMessage(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    enabled: bool = False
    template: str = Field(min_length=1, max_length=MAX_TEMPLATE_CHARS)

    @field_validator("template")
    @classmethod
    def _variables(cls, value: str) -> str:
        return check_template(value)


def _message(template: str) -> AutomaticMessage:
    return AutomaticMessage(enabled=False, template=template)


class AutomaticMessages(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    greeting: AutomaticMessage = _message(
        "Olá, {nome}! Recebemos sua mensagem. Seu protocolo de atendimento é {protocolo}."
        " Em instantes alguém da nossa equipe vai falar com você."
    )
    away: AutomaticMessage = _message(
        "Olá, {nome}! Nosso atendimento está fechado agora. Seu protocolo é {protocolo};"
        " responderemos assim que voltarmos."
    )
    queue_position: AutomaticMessage = _message(
        "Você é o {posicao}º da fila. Tempo estimado de espera: {espera}. Protocolo: {protocolo}."
    )
    csat_request: AutomaticMessage = _message(
        "Seu atendimento (protocolo {protocolo}) foi concluído. Como você avalia o atendimento?"
        " Responda com uma nota de 1 (péssimo) a 5 (ótimo)."
    )
    csat_thanks: AutomaticMessage = _message("Obrigado pela sua avaliação!")

    def of(self, kind: AutomaticKind) -> AutomaticMessage:
        message: AutomaticMessage = getattr(self, kind.value)
        return message


class OperationsSettings(BaseModel):
    """``public.operations_settings.settings``; a missing field takes its default."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    default_team_id: str | None = None
    automatic_messages: AutomaticMessages = AutomaticMessages()
    presence_ttl_seconds: int = Field(default=90, ge=15, le=3600)
    # a conversation transferred away from an agent is not given back to them automatically for this long
    reassign_cooldown_seconds: int = Field(default=600, ge=0, le=86400)
    # automation hands a conversation it could not route (no analysis came) to the default team after this
    bot_timeout_seconds: int = Field(default=120, ge=10, le=86400)
    csat_window_hours: int = Field(default=24, ge=1, le=168)
    alerts: AlertThresholds = AlertThresholds()
