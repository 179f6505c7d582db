"""Secrets live in the secret store (moto's Secrets Manager here) and never leave it: a full
flow over the local stack, then every response body and header and every captured log line
is scanned for the known secret values."""

from __future__ import annotations

import logging

import pytest

import functions.app as functions_app
from ponte.adapters.secrets import PowertoolsSecretStore
from ponte.localstack.stack import APP_SECRET_NAME, LocalStack
from tests.e2e.test_privacy_api import Api, hide_flow

pytestmark = pytest.mark.e2e


@pytest.mark.parametrize("stack_verbose", [True])  # the request lines too, where a path carries a secret
def test_no_secret_in_any_response_or_log_line(
    stack: LocalStack, caplog: pytest.LogCaptureFixture, capfd: pytest.CaptureFixture[str]
) -> None:
    caplog.set_level(logging.DEBUG)
    secrets = stack.secrets
    known = {
        "jwt_secret": secrets.jwt_secret,
        "audit_hash_key": secrets.audit_hash_key,
        "worker_token": secrets.worker_token,
        "webhook_secret": secrets.demo_webhook_secret,
        "gateway_api_key": secrets.demo_gateway_api_key,
    }
    if stack.settings.worker_token:  # the local worker process's own token, when the stack started one
        known["local_worker_token"] = stack.settings.worker_token
    # the app really reads them from the store (Powertools over moto), not from its settings
    assert stack.settings.jwt_secret is None and stack.settings.audit_hash_key is None
    store = PowertoolsSecretStore(client=stack.secretsmanager)
    assert store.get(APP_SECRET_NAME)["jwt_secret"] == secrets.jwt_secret
    # WHEN the whole flow runs: webhooks, auth failures, hide, erase, unhide, a sweep that logs
    api = Api(stack)
    hide_flow(stack, api)
    api.call("GET", "/me", "not-a-token")
    api.webhook(b"{not json")
    assert stack.demo is not None  # a gateway without headers sends its secret in the path
    path_secret = f"/webhooks/{stack.demo.provider}/{stack.demo.instance_id}/{secrets.demo_webhook_secret}"
    assert api.call("POST", path_secret, content=b"{}", headers={"Content-Type": "application/json"}).status_code < 500
    functions_app.scheduled_purge_handler({}, None)
    functions_app.logger.info("secret probe", extra={"worker_token": secrets.worker_token})
    out, err = capfd.readouterr()
    # the application's log lines (the test's own HTTP client logs the URLs it calls)
    app_records = [r for r in caplog.records if not r.name.startswith(("httpx", "httpcore"))]
    logs = "\n".join([out, err, *(f"{r.name} {r.getMessage()}" for r in app_records)])
    bodies = "\n".join(f"{r.status_code} {dict(r.headers)} {r.text}" for r in api.responses)
    # THEN the scan had something to read
    assert len(api.responses) >= 15
    assert "privacy sweep" in logs and "POST /contacts/hide" in logs and "/[secret]" in logs
    # and no secret appears anywhere
    hits = {name: where for name, value in known.items() for where, text in (("logs", logs), ("bodies", bodies))
            if value in text}  # fmt: skip
    assert hits == {}
    # the probe that did log a secret was redacted, not dropped
    assert "[secret]" in logs
