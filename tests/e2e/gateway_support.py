"""The local stack wired to the fake gateway: an Evolution and a WPPConnect instance of the
demo tenant, their credentials in the (moto) secret store, an admin and an agent."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import boto3
import httpx
import psycopg
import pytest

import functions.app as functions_app
import proxy.runtime as proxy_runtime
from functions.bootstrap import bootstrap as functions_bootstrap
from ponte.adapters.secrets import put_secret
from ponte.adapters.sqs import SqsEventQueue
from ponte.adapters.tenant_keys import DEEPLINK_KEY, tenant_secret_name
from ponte.domain.identity import canonical_phone
from ponte.localstack.fake_gateway import FakeGateway, FakeSession
from ponte.localstack.jwt_tokens import mint_token
from ponte.localstack.seed import seed_tenant
from ponte.localstack.stack import LocalStack
from ponte.services.intake import SECRET_HEADER
from proxy.bootstrap import bootstrap as proxy_bootstrap

AGENT = "00000000-0000-4000-8000-00000000d0a7"
WPP_INSTANCE = "00000000-0000-4000-8000-00000000d0f1"
WPP_WEBHOOK_SECRET = "wpp-webhook-secret-for-tests"
DEEPLINK_TEST_KEY = "deeplink-key-for-tests-0123456789"
GATEWAY_TIMEOUT = 0.6


@dataclass
class GatewayEnv:
    stack: LocalStack
    fake: FakeGateway
    evo: FakeSession
    wpp: FakeSession
    evo_instance: str
    wpp_instance: str
    tenant_id: str

    def token(self, user: str | None = None) -> str:
        assert self.stack.demo is not None
        return mint_token(self.stack.secrets.jwt_secret, sub=user or self.stack.demo.user_id)

    def call(self, method: str, path: str, *, user: str | None = None, **kw: Any) -> httpx.Response:
        headers = {"Authorization": f"Bearer {self.token(user)}"}
        return httpx.request(method, self.stack.proxy_url + path, headers=headers, timeout=30, **kw)

    def sql(self, query: str, *args: Any) -> list[dict[str, Any]]:
        assert self.stack.db is not None
        with self.stack.db.as_service() as conn:
            rows: list[dict[str, Any]] = conn.execute(query, args).fetchall()
        return rows

    def webhook(self, payload: dict[str, Any]) -> httpx.Response:
        headers = {SECRET_HEADER: self.stack.secrets.demo_webhook_secret}
        return httpx.post(self.stack.webhook_url(), json=payload, headers=headers, timeout=10)

    def wait(self, check: Callable[[], Any], timeout: float = 15.0) -> Any:
        deadline = time.monotonic() + timeout
        while True:
            value = check()
            if value or time.monotonic() > deadline:
                return value
            time.sleep(0.1)

    def conversation_with(self, phone_digits: str, text: str = "Oi, quero saber do meu pedido") -> str:
        """An inbound message from ``phone_digits`` through the webhook; the conversation's id."""
        payload = {
            "event": "messages.upsert",
            "instance": "demo",
            "data": {
                "key": {"remoteJid": f"{phone_digits}@s.whatsapp.net", "fromMe": False, "id": uuid.uuid4().hex.upper()},
                "pushName": "Cliente Teste",
                "message": {"conversation": text},
                "messageType": "conversation",
                "messageTimestamp": int(time.time()),
            },
        }
        assert self.webhook(payload).status_code == 200
        rows = self.wait(
            lambda: self.sql(
                "select c.id::text as id from public.conversations c join public.contacts ct on ct.id = c.contact_id"
                " where ct.phone_e164 = %s",
                canonical_phone(phone_digits + "@s.whatsapp.net"),
            )
        )
        assert rows, "the inbound message was not ingested"
        return str(rows[0]["id"])

    def queue_drained(self) -> bool:
        attrs = self.stack.sqs.get_queue_attributes(
            QueueUrl=self.stack.settings.ingest_queue_url,
            AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
        )["Attributes"]
        return bool(
            attrs["ApproximateNumberOfMessages"] == "0" and attrs["ApproximateNumberOfMessagesNotVisible"] == "0"
        )


@pytest.fixture
def gateway(stack: LocalStack) -> Iterator[GatewayEnv]:
    assert stack.demo is not None and stack.moto is not None and stack.db is not None
    fake = FakeGateway(stall_seconds=GATEWAY_TIMEOUT * 2).start()
    tenant = stack.demo.tenant_id
    secrets = boto3.client("secretsmanager", endpoint_url=stack.moto.url)
    evo_secret, wpp_secret = f"ponte/test/{uuid.uuid4().hex}/evolution", f"ponte/test/{uuid.uuid4().hex}/wpp"
    put_secret(secrets, evo_secret, {"api_key": "evo-key-primary", "alternate_api_key": "evo-key-alternate"})
    put_secret(secrets, wpp_secret, {"api_key": fake.wpp_secret_key})
    put_secret(secrets, tenant_secret_name("ponte/tenants", tenant), {DEEPLINK_KEY: DEEPLINK_TEST_KEY})
    evo = fake.evolution("demo", "evo-key-primary", "evo-key-alternate")
    evo.webhook_url, evo.webhook_secret = stack.webhook_url(), stack.secrets.demo_webhook_secret
    wpp = fake.wppconnect("loja")
    with psycopg.connect(stack.dsn) as conn:
        seed_tenant(
            conn, tenant_id=tenant, name="Loja Demo", user_id=AGENT, email="agente@loja-demo.local", role="agent"
        )
        seed_tenant(
            conn,
            tenant_id=tenant,
            name="Loja Demo",
            user_id=stack.demo.user_id,
            email=stack.demo.user_email,
            instance_id=WPP_INSTANCE,
            provider="wppconnect",
            gateway_instance="loja",
            webhook_secret=WPP_WEBHOOK_SECRET,
        )
        for instance, secret in ((stack.demo.instance_id, evo_secret), (WPP_INSTANCE, wpp_secret)):
            conn.execute(
                "update public.whatsapp_instances set gateway_base_url = %s, credentials_secret_name = %s,"
                " status = 'connected' where id = %s",
                (fake.url, secret, instance),
            )
        conn.commit()
    # the proxy and the functions with short gateway timeouts and a short resend window
    settings = stack.settings.model_copy(
        update={"gateway_timeout_seconds": GATEWAY_TIMEOUT, "send_resend_after_seconds": 3.0}
    )
    queue = SqsEventQueue(settings.ingest_queue_url or "", stack.sqs)
    proxy_runtime.set_container(proxy_bootstrap(settings, db=stack.db, queue=queue))
    functions_app.set_container(functions_bootstrap(settings, db=stack.db))
    try:
        yield GatewayEnv(stack, fake, evo, wpp, stack.demo.instance_id, WPP_INSTANCE, tenant)
    finally:
        fake.stop()
