"""Meta's WhatsApp Cloud API error codes -> Ponte's machine codes (no I/O).

Meta says to build logic on the numeric ``code``, never on ``title`` or ``message`` (those are
translated and reworded). The same codes arrive in a failed status's ``errors[]`` and in the
Graph API's error answers to a send, so both paths map through here. An unknown code keeps its
number: ``meta_<code>``.
"""

from __future__ import annotations

from enum import StrEnum


class MetaErrorKind(StrEnum):
    """What a caller may do about a Meta error."""

    AUTH = "auth"  # the access token is invalid or expired: fix the instance's credentials
    RATE = "rate"  # throughput or pair rate: later, slower
    REFUSED = "refused"  # a definite no for this message (window, template, recipient, policy)
    UNAVAILABLE = "unavailable"  # Meta's side is down: nothing was sent, retry later
    UNKNOWN = "unknown"


# code -> (machine code, kind). Sources: Meta's error-codes reference and the status webhook
# reference (see the Cloud API provider README), BSP error pages for 131047 / 131050.
_CODES: dict[int, tuple[str, MetaErrorKind]] = {
    0: ("gateway_auth_failed", MetaErrorKind.AUTH),
    190: ("gateway_auth_failed", MetaErrorKind.AUTH),
    3: ("permission_denied", MetaErrorKind.AUTH),
    10: ("permission_denied", MetaErrorKind.AUTH),
    200: ("permission_denied", MetaErrorKind.AUTH),
    131005: ("permission_denied", MetaErrorKind.AUTH),
    4: ("rate_limited", MetaErrorKind.RATE),
    80007: ("rate_limited", MetaErrorKind.RATE),
    130429: ("rate_limited", MetaErrorKind.RATE),
    131048: ("spam_rate_limited", MetaErrorKind.RATE),
    131056: ("pair_rate_limited", MetaErrorKind.RATE),
    100: ("invalid_request", MetaErrorKind.REFUSED),
    131008: ("invalid_request", MetaErrorKind.REFUSED),
    131009: ("invalid_request", MetaErrorKind.REFUSED),
    131021: ("invalid_recipient", MetaErrorKind.REFUSED),
    131026: ("undeliverable", MetaErrorKind.REFUSED),
    131031: ("account_locked", MetaErrorKind.REFUSED),
    131042: ("payment_required", MetaErrorKind.REFUSED),
    131045: ("number_not_registered", MetaErrorKind.REFUSED),
    133010: ("number_not_registered", MetaErrorKind.REFUSED),
    131047: ("outside_service_window", MetaErrorKind.REFUSED),
    470: ("outside_service_window", MetaErrorKind.REFUSED),
    131049: ("marketing_limit", MetaErrorKind.REFUSED),
    131050: ("marketing_opt_out", MetaErrorKind.REFUSED),
    131051: ("unsupported_message_type", MetaErrorKind.REFUSED),
    131052: ("media_download_failed", MetaErrorKind.REFUSED),
    131053: ("media_upload_failed", MetaErrorKind.REFUSED),
    131057: ("account_maintenance", MetaErrorKind.UNAVAILABLE),
    131000: ("provider_error", MetaErrorKind.UNKNOWN),
    131016: ("gateway_unavailable", MetaErrorKind.UNAVAILABLE),
    130472: ("experiment_number", MetaErrorKind.REFUSED),
    132000: ("template_params_mismatch", MetaErrorKind.REFUSED),
    132012: ("template_params_mismatch", MetaErrorKind.REFUSED),
    132001: ("template_not_found", MetaErrorKind.REFUSED),
    132005: ("template_text_too_long", MetaErrorKind.REFUSED),
    132007: ("template_policy_violation", MetaErrorKind.REFUSED),
    132015: ("template_paused", MetaErrorKind.REFUSED),
    132016: ("template_disabled", MetaErrorKind.REFUSED),
    368: ("policy_blocked", MetaErrorKind.REFUSED),
}


def meta_error(code: object) -> tuple[str, MetaErrorKind]:
    """The machine code and kind of a Meta error code (an int, or digits in a string)."""
    if isinstance(code, str) and code.isascii() and code.isdigit() and len(code) <= 9:
        code = int(code)
    if isinstance(code, bool) or not isinstance(code, int):
        return "provider_error", MetaErrorKind.UNKNOWN
    return _CODES.get(code, (f"meta_{code}", MetaErrorKind.UNKNOWN))


def meta_error_code(code: object) -> str:
    return meta_error(code)[0]
