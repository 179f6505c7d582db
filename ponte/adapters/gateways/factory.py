"""Builds the client of an instance from its row and its secret (read from the secret store).

The instance's secret (``whatsapp_instances.credentials_secret_name``) is a JSON object:

* ``api_key`` -- Evolution: the ``apikey`` (global key or instance token);
  WPPConnect: the server's ``SECRET_KEY`` the session token is derived from;
* ``alternate_api_key`` (optional) -- what the session recovery tries on alternate reconnects;
* ``base_url`` (optional) -- when the row's ``gateway_base_url`` is empty;
* ``webhook_secret`` (optional) -- WPPConnect only: lets ``start-session`` register the
  proxy's webhook URL again after a reset (the reset deletes the session's own settings).
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable

import httpx

from ponte.adapters.cloud_credentials import SecretCloudCredentials
from ponte.adapters.gateways import cloud, evolution, wppconnect
from ponte.adapters.gateways.base import Classifier, GatewayHttp
from ponte.domain.events import Provider
from ponte.domain.retry import RetryPolicy
from ponte.ports.diagnostics import DiagnosticsLog
from ponte.ports.gateway import Gateway, GatewayFactory, GatewayNotConfiguredError, GatewayTarget
from ponte.ports.secrets import SecretNotFoundError, SecretStore

API_KEY = "api_key"
ALTERNATE_API_KEY = "alternate_api_key"
BASE_URL = "base_url"
WEBHOOK_SECRET = "webhook_secret"

DEFAULT_TIMEOUT = httpx.Timeout(15.0, connect=3.0)


class HttpGatewayFactory(GatewayFactory):
    def __init__(
        self,
        secrets: SecretStore,
        diagnostics: DiagnosticsLog | None,
        *,
        timeout: httpx.Timeout = DEFAULT_TIMEOUT,
        retry: RetryPolicy | None = None,
        public_base_url: str | None = None,
        sleep: Callable[[float], None] = time.sleep,
        rand: Callable[[], float] = random.random,
    ) -> None:
        self._secrets = secrets
        self._diagnostics = diagnostics
        self._client = httpx.Client(timeout=timeout, follow_redirects=False)
        self._retry = retry or RetryPolicy()
        self._public_base_url = public_base_url.rstrip("/") if public_base_url else None
        self._sleep = sleep
        self._rand = rand

    def close(self) -> None:
        self._client.close()

    def _secret(self, target: GatewayTarget) -> dict[str, str]:
        if not target.credentials_secret_name:
            raise GatewayNotConfiguredError("the instance has no gateway credentials")
        try:
            return dict(self._secrets.get(target.credentials_secret_name))
        except SecretNotFoundError as exc:
            raise GatewayNotConfiguredError("the instance's gateway credentials could not be read") from exc

    def has_alternate(self, target: GatewayTarget) -> bool:
        if target.provider is Provider.CLOUD:
            return False
        try:
            return bool(self._secret(target).get(ALTERNATE_API_KEY))
        except GatewayNotConfiguredError:
            return False

    def _cloud(self, target: GatewayTarget) -> cloud.CloudGateway:
        """A Cloud API number: the Graph API with the instance's access token (never an alternate)."""
        credentials = SecretCloudCredentials(self._secrets).credentials(target.credentials_secret_name)
        if credentials is None or credentials.access_token is None:
            raise GatewayNotConfiguredError("the Cloud API instance's access token is missing")
        base_url = target.base_url or credentials.graph_base_url or cloud.DEFAULT_GRAPH_URL
        http = self._http(target, base_url, cloud.classify)
        return cloud.CloudGateway(
            http,
            phone_number_id=target.gateway_instance,
            access_token=credentials.access_token.get_secret_value(),
            waba_id=credentials.waba_id,
        )

    def _http(self, target: GatewayTarget, base_url: str, classify: Classifier) -> GatewayHttp:
        return GatewayHttp(
            client=self._client,
            target=target,
            base_url=base_url,
            diagnostics=self._diagnostics,
            retry=self._retry,
            sleep=self._sleep,
            rand=self._rand,
            classify=classify,
        )

    def for_instance(self, target: GatewayTarget, *, alternate: bool = False) -> Gateway:
        if target.provider is Provider.CLOUD:
            return self._cloud(target)
        secret = self._secret(target)
        key = secret.get(ALTERNATE_API_KEY if alternate else API_KEY)
        base_url = target.base_url or secret.get(BASE_URL)
        if not key or not base_url:
            raise GatewayNotConfiguredError("the instance's gateway URL or key is missing")
        classify = evolution.classify if target.provider is Provider.EVOLUTION else wppconnect.classify
        http = self._http(target, base_url, classify)
        if target.provider is Provider.EVOLUTION:
            return evolution.EvolutionGateway(http, instance=target.gateway_instance, api_key=key)
        webhook_url = None
        if self._public_base_url and secret.get(WEBHOOK_SECRET):
            webhook_url = f"{self._public_base_url}/webhooks/wppconnect/{target.instance_id}/{secret[WEBHOOK_SECRET]}"
        return wppconnect.WppConnectGateway(
            http, base_url=base_url, session=target.gateway_instance, secret_key=key, webhook_url=webhook_url
        )


def gateway_factory_from_settings(
    settings: object, secrets: SecretStore, diagnostics: DiagnosticsLog | None
) -> HttpGatewayFactory:
    timeout = float(getattr(settings, "gateway_timeout_seconds", 15.0))
    return HttpGatewayFactory(
        secrets,
        diagnostics,
        timeout=httpx.Timeout(timeout, connect=min(3.0, timeout)),
        public_base_url=getattr(settings, "public_base_url", None),
    )
