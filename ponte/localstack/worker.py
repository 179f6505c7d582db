"""The inference worker as a child process of the local stack (``python -m inference_worker``).

Started only when its ``worker`` extra is installed; the token is generated per run and
handed over in the environment (never on the command line, where ``ps`` shows it).
"""

from __future__ import annotations

import importlib.util
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from ponte.localstack.exceptions import LocalStackError
from ponte.localstack.pgcluster import free_port
from ponte.localstack.process import ChildProcess


def worker_installed() -> bool:
    """The worker's code and its llama.cpp bindings are importable (``pip install -e '.[worker]'``)."""
    return all(
        importlib.util.find_spec(name) is not None for name in ("inference_worker", "llama_cpp", "uvicorn")
    ) and (importlib.util.find_spec("inference_worker.cli") is not None)


@dataclass
class WorkerProcess(ChildProcess):
    token: str
    log_file: Path
    port: int = 0
    processes: int = 1
    _proc: subprocess.Popen[bytes] | None = field(default=None, init=False, repr=False)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 180.0) -> WorkerProcess:
        self.port = self.port or free_port()
        env = {**os.environ, "PONTE_WORKER_TOKEN": self.token}
        argv = [sys.executable, "-m", "inference_worker", "--host", "127.0.0.1", "--port", str(self.port)]
        argv += ["--processes", str(self.processes)]
        self.log_file.parent.mkdir(parents=True, exist_ok=True)
        with open(self.log_file, "ab") as log:
            self._proc = subprocess.Popen(argv, env=env, stdout=log, stderr=log, start_new_session=True)
        self._wait_ready(timeout)
        return self

    def _wait_ready(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._proc is not None and self._proc.poll() is not None:
                raise LocalStackError(f"the inference worker exited with {self._proc.returncode}; see {self.log_file}")
            try:
                health = httpx.get(f"{self.url}/health", timeout=1.0).json()
                if health.get("ready"):
                    return
            except (httpx.HTTPError, ValueError):
                pass
            time.sleep(0.25)
        self.stop()
        raise LocalStackError(f"the inference worker was not ready within {timeout:.0f}s; see {self.log_file}")

    def stop(self) -> None:
        proc, self._proc = self._proc, None
        if proc is None or proc.poll() is not None:
            return
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=5)
