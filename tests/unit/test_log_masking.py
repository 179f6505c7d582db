"""Logs mask phones and redact message text by default; secrets never reach a line."""

from __future__ import annotations

import json
import logging

import pytest

from ponte.adapters.logs import MaskingFormatter, debug_enabled, make_logger, register_secret_values
from ponte.domain.masking import mask, mask_phones
from ponte.settings import Settings

pytestmark = pytest.mark.unit


@pytest.mark.parametrize(
    ("text", "masked"),
    [
        ("+5511987650021", "+55 11 9****-**21"),
        ("5511987650021@s.whatsapp.net", "+55 11 9****-**21@s.whatsapp.net"),
        ("551187650021@c.us", "+55 11 8***-**21@c.us"),
        ("ligue (11) 98765-0021", "ligue 11 9****-**21"),
        ("+1 202 555 0123", "+120******23"),
    ],
)
def test_phones_are_masked(text: str, masked: str) -> None:
    assert mask_phones(text) == masked


@pytest.mark.parametrize(
    "kept", ["00000000-0000-4000-8000-0000000000a1", "status 200 in 12.5 ms", "wamid.HBgM", "3EB0C767D71D"]
)
def test_ids_and_numbers_that_are_not_phones_are_kept(kept: str) -> None:
    assert mask_phones(kept) == kept


def test_text_fields_are_redacted_at_any_depth() -> None:
    record = {"message": "stored", "event": {"text": "meu CPF é 123", "push_name": "Fulano", "kind": "text"}}
    assert mask(record) == {
        "message": "stored",
        "event": {"text": "[redacted]", "push_name": "[redacted]", "kind": "text"},
    }


def _formatted(formatter: logging.Formatter, msg: str, **extra: object) -> dict[str, object]:
    record = logging.LogRecord("t", logging.INFO, __file__, 1, msg, None, None)
    for key, value in extra.items():
        setattr(record, key, value)
    return json.loads(formatter.format(record))  # type: ignore[no-any-return]


def test_formatter_masks_by_default_and_not_in_debug() -> None:
    line = _formatted(MaskingFormatter(), "from +5511987650021", text="olá, tudo bem?")
    assert line["message"] == "from +55 11 9****-**21" and line["text"] == "[redacted]"
    debug = _formatted(MaskingFormatter(debug=True), "from +5511987650021", text="olá")
    assert debug["message"] == "from +5511987650021" and debug["text"] == "olá"


def test_debug_switch_is_off_in_prod_whatever_the_env() -> None:
    assert debug_enabled(Settings.from_env({"PONTE_LOG_DEBUG": "1", "PONTE_STAGE": "dev"})) is True
    assert debug_enabled(Settings.from_env({"PONTE_LOG_DEBUG": "1", "PONTE_STAGE": "prod"})) is False
    assert debug_enabled(Settings.from_env({})) is False


def test_secrets_are_redacted_from_every_logger(caplog: pytest.LogCaptureFixture) -> None:
    make_logger("ponte-test", Settings.from_env({}))
    register_secret_values("s3cr3t-value-for-the-test")
    with caplog.at_level(logging.DEBUG):
        logging.getLogger("botocore.parsers").debug('Response body: b\'{"x": "s3cr3t-value-for-the-test"}\'')
        logging.getLogger("botocore.parsers").debug(
            'Response body: {"SecretString": "{\\"k\\": \\"v\\"}", "Name": "n"}'
        )
    assert "s3cr3t-value-for-the-test" not in caplog.text
    assert '\\"v\\"' not in caplog.text and "[secret]" in caplog.text


@pytest.mark.parametrize("app", ["proxy", "functions"])
def test_production_stage_turns_the_debug_switch_off(app: str) -> None:
    from pathlib import Path

    config = json.loads((Path(__file__).resolve().parents[2] / app / ".chalice" / "config.json").read_text())
    env = config["stages"]["prod"]["environment_variables"]
    assert env["PONTE_STAGE"] == "prod" and env["PONTE_LOG_DEBUG"] == "false"
    assert debug_enabled(Settings.from_env(env)) is False


def test_the_local_request_log_hides_path_secrets_and_phones() -> None:
    from ponte.localstack.proxy_http import redact_request_line

    line = redact_request_line('"POST /webhooks/wppconnect/abc-123/s3cr3tS3cr3t HTTP/1.1"')
    assert line == '"POST /webhooks/wppconnect/abc-123/[secret] HTTP/1.1"'
    assert redact_request_line('"GET /contacts/hidden?phone=5511987650021 HTTP/1.1"') == (
        '"GET /contacts/hidden?phone=+55 11 9****-**21 HTTP/1.1"'
    )
    assert (
        redact_request_line('"POST /webhooks/evolution/abc-123 HTTP/1.1"')
        == '"POST /webhooks/evolution/abc-123 HTTP/1.1"'
    )


def test_the_loggers_timestamp_is_not_taken_for_a_phone() -> None:
    record = {"timestamp": "2026-11-23 21:29:23,796+0000", "phone": "+5511987650021"}
    masked = mask(record)
    assert masked["timestamp"] == "2026-11-23 21:29:23,796+0000"
    assert masked["phone"] == "+55 11 9****-**21"
