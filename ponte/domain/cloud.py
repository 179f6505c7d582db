"""What Ponte keeps of a Cloud API instance's credentials (never printed: ``SecretStr``)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, SecretStr

# Fields of a Cloud API instance's secret (whatsapp_instances.credentials_secret_name names it).
APP_SECRET = "app_secret"  # the Meta app's secret: X-Hub-Signature-256 of every webhook
VERIFY_TOKEN = "verify_token"  # what the app's webhook set-up sends in the GET handshake
ACCESS_TOKEN = "access_token"  # a system user's token: Graph API calls (send, media, templates)
WABA_ID = "waba_id"  # the WhatsApp Business Account: its message templates
GRAPH_BASE_URL = "graph_base_url"  # optional; Meta's Graph API by default


class CloudCredentials(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    app_secret: SecretStr
    verify_token: SecretStr
    access_token: SecretStr | None = None
    waba_id: str | None = None
    graph_base_url: str | None = None
