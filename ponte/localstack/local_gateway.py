"""The local stack's WhatsApp gateway: the fake gateway, and every local instance wired to it.

At start, and then every few seconds for instances created while the stack runs, each instance
that has no gateway (no ``gateway_base_url`` and no credentials) -- or that this stack wired on an
earlier run (its credentials secret is under ``ponte/local/gateway/``) -- gets the fake gateway's
URL, a credentials secret in the local secret store, and a session on the fake gateway that posts
its echoes and acks back to the proxy's webhook. Sends, status, reconnect and reset then work
from the first start. The credentials (and the webhook secret of a wired instance other than the
demo's, whose hash is replaced once) are kept in ``<state dir>/local-gateways.json`` (mode 600).
"""

from __future__ import annotations

import json
import secrets
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ponte.adapters.gateways.factory import ALTERNATE_API_KEY
from ponte.adapters.postgres.db import Database
from ponte.adapters.secrets import GATEWAY_API_KEY, WEBHOOK_SECRET, put_secret
from ponte.localstack.fake_gateway import FakeGateway
from ponte.localstack.log import logger
from ponte.services.intake import hash_secret

LOCAL_GATEWAY_PREFIX = "ponte/local/gateway/"
WIRING_INTERVAL_SECONDS = 2.0


@dataclass
class LocalGateway:
    db: Database
    secretsmanager: Any
    state_dir: Path
    proxy_url: str
    # instance id -> (api key, webhook secret) known before start (the demo instance's)
    known: dict[str, tuple[str, str]] = field(default_factory=dict)
    ack_interval: float = 0.7
    # told when an instance's webhook secret changed (the proxy's cached instance record is stale)
    on_secret_change: Callable[[str], None] | None = None
    fake: FakeGateway = field(init=False)
    wired: set[str] = field(default_factory=set, init=False)
    _stop: threading.Event = field(default_factory=threading.Event, init=False)
    _thread: threading.Thread | None = field(default=None, init=False)

    @property
    def url(self) -> str:
        return self.fake.url

    def start(self) -> LocalGateway:
        self.fake = FakeGateway(acks=True, ack_interval=self.ack_interval).start()
        self.wire(again=True)
        self._thread = threading.Thread(target=self._watch, name="gateway-wiring", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None
        self.fake.stop()

    def _watch(self) -> None:
        failing = False
        while not self._stop.wait(WIRING_INTERVAL_SECONDS):
            try:
                self.wire(again=False)
            except Exception:  # the database is restarting or stopping: the next pass tries again
                if not failing:  # once per outage
                    logger.warning("wiring local instances to the fake gateway failed", exc_info=True)
                failing = True
            else:
                failing = False

    def _credentials_file(self) -> Path:
        return self.state_dir / "local-gateways.json"

    def _load(self) -> dict[str, dict[str, str]]:
        path = self._credentials_file()
        return json.loads(path.read_text()) if path.exists() else {}

    def _save(self, values: dict[str, dict[str, str]]) -> None:
        path = self._credentials_file()
        path.write_text(json.dumps(values, indent=2))
        path.chmod(0o600)

    def wire(self, *, again: bool) -> list[str]:
        """Wire the instances that need it (``again``: those of an earlier run too); their ids."""
        # Cloud API instances are wired by the stack itself (their Graph API and app secret)
        condition = "provider <> 'cloud' and ((gateway_base_url is null and credentials_secret_name is null)"
        if again:
            condition += f" or credentials_secret_name like '{LOCAL_GATEWAY_PREFIX}%'"
        condition += ")"
        with self.db.as_service(None) as conn:
            rows = conn.execute(
                "select id::text as id, tenant_id::text as tenant_id, provider, gateway_instance"
                f" from public.whatsapp_instances where {condition}"
            ).fetchall()
        if not rows:
            return []
        stored = self._load()
        for row in rows:
            self._wire_one(row, stored)
        self._save(stored)
        return [row["id"] for row in rows]

    def _wire_one(self, row: dict[str, Any], stored: dict[str, dict[str, str]]) -> None:
        instance = row["id"]
        if instance in self.known:
            api_key, webhook_secret = self.known[instance]
            stored[instance] = {"api_key": api_key, "webhook_secret": webhook_secret}
            new_secret = False
        else:
            new_secret = instance not in stored
            entry = stored.setdefault(
                instance, {"api_key": secrets.token_urlsafe(24), "webhook_secret": secrets.token_urlsafe(24)}
            )
            api_key, webhook_secret = entry["api_key"], entry["webhook_secret"]
        name = f"{LOCAL_GATEWAY_PREFIX}{instance}"
        if row["provider"] == "wppconnect":
            session = self.fake.wppconnect(row["gateway_instance"])
            session.webhook_url = f"{self.proxy_url}/webhooks/wppconnect/{instance}/{webhook_secret}"
            value = {GATEWAY_API_KEY: self.fake.wpp_secret_key, WEBHOOK_SECRET: webhook_secret}
        else:
            session = self.fake.evolution(row["gateway_instance"], api_key, api_key + "-alt")
            session.webhook_url = f"{self.proxy_url}/webhooks/evolution/{instance}"
            value = {GATEWAY_API_KEY: api_key, ALTERNATE_API_KEY: api_key + "-alt", WEBHOOK_SECRET: webhook_secret}
        session.webhook_secret = webhook_secret
        put_secret(self.secretsmanager, name, value)
        with self.db.as_service(row["tenant_id"]) as conn:
            conn.execute(
                "update public.whatsapp_instances set gateway_base_url = %s, credentials_secret_name = %s,"
                " status = 'connected' where id = %s",
                (self.fake.url, name, instance),
            )
            if new_secret:
                conn.execute(
                    "update public.whatsapp_instances set webhook_secret_hash = %s where id = %s",
                    (hash_secret(webhook_secret), instance),
                )
        if new_secret and self.on_secret_change is not None:
            self.on_secret_change(instance)
        self.wired.add(instance)
        logger.info("instance wired to the fake gateway", extra={"instance_id": instance, "provider": row["provider"]})
