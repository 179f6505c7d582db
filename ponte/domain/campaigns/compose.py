"""Each recipient's exact message (no I/O): the variant in turn, the variables filled, neutral
variations where too many would get the same text (unofficial gateways), the tenant's opt-out
instruction appended; on the Cloud API the approved template's parameters as well. What the
preview shows is what the start freezes and what the sender sends."""

from __future__ import annotations

from collections.abc import Sequence

from ponte.domain.campaigns.audience import Recipient
from ponte.domain.campaigns.message import (
    CampaignMessage,
    diversify,
    render,
    template_parameters,
    with_opt_out,
)
from ponte.domain.campaigns.throttle import Channel


class ComposeError(ValueError):
    """The message cannot be composed for this channel (``code`` says why)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


class Composed:
    __slots__ = ("body", "recipient", "template_params")

    def __init__(self, recipient: Recipient, body: str, template_params: tuple[str, ...] | None) -> None:
        self.recipient = recipient
        self.body = body
        self.template_params = template_params


def compose(
    recipients: Sequence[Recipient],
    message: CampaignMessage,
    *,
    channel: Channel,
    opt_out_instruction: str,
    max_identical: int | None,
) -> list[Composed]:
    """Raises :class:`ComposeError` (a Cloud API campaign without a template, too many identical
    bodies); a recipient's missing variable was excluded by the audience already."""
    if channel is Channel.CLOUD and message.cloud_template is None:
        raise ComposeError("cloud_template_required", "a Cloud API campaign sends an approved template")
    values = [r.values.merged(message.defaults) for r in recipients]
    variants = message.variants
    rendered = [render(variants[r.ordinal % len(variants)], v) for r, v in zip(recipients, values, strict=True)]
    try:
        bodies = diversify(rendered, max_identical if channel is Channel.UNOFFICIAL else None)
    except ValueError as exc:
        raise ComposeError("too_many_identical", str(exc)) from exc
    out = []
    for recipient, value, body in zip(recipients, values, bodies, strict=True):
        params = None
        if channel is Channel.CLOUD and message.cloud_template is not None:
            params = template_parameters(message.cloud_template, value)
        out.append(Composed(recipient, with_opt_out(body, opt_out_instruction), params))
    return out
