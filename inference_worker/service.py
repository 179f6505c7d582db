"""Run the worker app under uvicorn in a background thread (the local stack and tests)."""

from __future__ import annotations

import socket
import threading
import time

import uvicorn

from inference_worker.app import create_app
from inference_worker.settings import WorkerSettings


class WorkerService:
    def __init__(self, settings: WorkerSettings) -> None:
        self.settings = settings
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        self.port = settings.port

    @property
    def url(self) -> str:
        return f"http://{self.settings.host}:{self.port}"

    def start(self, timeout: float = 10.0) -> WorkerService:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((self.settings.host, self.settings.port))
        self.port = sock.getsockname()[1]
        config = uvicorn.Config(create_app(self.settings), log_level="warning", lifespan="on", access_log=False)
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(
            target=self._server.run, kwargs={"sockets": [sock]}, name="inference-worker", daemon=True
        )
        self._thread.start()
        deadline = time.monotonic() + timeout
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("the inference worker did not start")
            time.sleep(0.02)
        return self

    def stop(self) -> None:
        if self._server is not None and self._thread is not None:
            self._server.should_exit = True
            self._thread.join(timeout=30)
        self._server = None
        self._thread = None
