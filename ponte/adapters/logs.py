"""Structured logs (Powertools Logger) that mask phones and redact message text by default.

``PONTE_LOG_DEBUG=1`` turns masking off for local debugging; it never applies in the
``prod`` stage. Secret values read from the secret store are replaced in every line,
debug or not.
"""

from __future__ import annotations

import logging
import re
import threading
from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.logging.formatter import LambdaPowertoolsFormatter

from ponte.domain.masking import mask
from ponte.settings import Settings

SECRET_PLACEHOLDER = "[secret]"
_MIN_SECRET_LENGTH = 8

_secret_values: set[str] = set()
_lock = threading.Lock()


# botocore's debug lines quote response bodies, Secrets Manager's included, before any
# value is known to us: whatever follows "SecretString" is redacted in every record.
_SECRET_STRING = re.compile(r"""(SecretString\\?['"]?\s*[:=]\s*)(\\?['"])(.*?)(?<!\\)\2""")
_base_factory = logging.getLogRecordFactory()
_factory_installed = False


def _redacting_factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
    """Every log record of the process, whatever logger or handler (botocore's debug lines
    quote Secrets Manager responses): a message holding a secret value is rewritten."""
    record = _base_factory(*args, **kwargs)
    try:
        message = record.getMessage()
    except Exception:  # a malformed record: leave it to logging's own error path
        return record
    redacted = redact_secrets(message)
    if "SecretString" in redacted:
        redacted = _SECRET_STRING.sub(lambda m: f"{m.group(1)}{m.group(2)}{SECRET_PLACEHOLDER}{m.group(2)}", redacted)
    if redacted != message:
        record.msg, record.args = redacted, None
    return record


def install_secret_redaction() -> None:
    global _factory_installed  # noqa: PLW0603
    with _lock:
        if not _factory_installed:
            logging.setLogRecordFactory(_redacting_factory)
            _factory_installed = True


def register_secret_values(*values: str) -> None:
    """Values that must never appear in a log line (called where secrets are read)."""
    install_secret_redaction()
    with _lock:
        _secret_values.update(v for v in values if v and len(v) >= _MIN_SECRET_LENGTH)


def redact_secrets(value: Any) -> Any:
    if isinstance(value, str):
        for secret in _secret_values:
            if secret in value:
                value = value.replace(secret, SECRET_PLACEHOLDER)
        return value
    if isinstance(value, dict):
        return {k: redact_secrets(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [redact_secrets(v) for v in value]
    return value


class MaskingFormatter(LambdaPowertoolsFormatter):
    def __init__(self, *, debug: bool = False, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.debug = debug

    def serialize(self, log: Any) -> str:
        if not self.debug:
            log = mask(log)
        return super().serialize(redact_secrets(log))


def debug_enabled(settings: Settings) -> bool:
    return settings.log_debug and settings.stage != "prod"


def make_logger(service: str, settings: Settings | None = None) -> Logger:
    """The service's Powertools logger with the masking formatter (settings read from the env by default)."""
    settings = settings or Settings.from_env()
    install_secret_redaction()
    return Logger(service=service, logger_formatter=MaskingFormatter(debug=debug_enabled(settings)))
