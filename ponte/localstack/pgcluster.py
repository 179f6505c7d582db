"""A PostgreSQL cluster started from the system binaries, for the local stack and tests.

Runs ``initdb --no-sync`` and ``postgres`` on a free loopback port. When the
current user is root, both run as the ``postgres`` OS user (PostgreSQL refuses root).
The local stack keeps its data directory between runs; tests use a throwaway one.
"""

from __future__ import annotations

import glob
import os
import shutil
import signal
import socket
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

from ponte.localstack.exceptions import LocalStackError

MIN_MAJOR = 15


def find_bindir() -> Path:
    explicit = os.environ.get("PONTE_PG_BINDIR")
    if explicit:
        return Path(explicit)
    candidates = []
    for path in glob.glob("/usr/lib/postgresql/*/bin"):
        try:
            major = int(Path(path).parent.name)
        except ValueError:
            continue
        if major >= MIN_MAJOR and Path(path, "initdb").exists():
            candidates.append((major, Path(path)))
    if candidates:
        return max(candidates)[1]
    initdb = shutil.which("initdb")
    if initdb:
        return Path(initdb).parent
    raise LocalStackError("PostgreSQL >= 15 binaries not found (install the postgresql package or set PONTE_PG_BINDIR)")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _as_postgres_user(argv: list[str]) -> list[str]:
    if os.geteuid() == 0:
        return ["runuser", "-u", "postgres", "--", *argv]
    return argv


def _make_accessible(path: Path) -> None:
    """Let the postgres OS user traverse to ``path`` and own it."""
    if os.geteuid() != 0:
        return
    shutil.chown(path, "postgres", "postgres")
    for parent in path.parents:
        mode = parent.stat().st_mode
        if not mode & 0o001:
            os.chmod(parent, mode | 0o001)


@dataclass
class PgCluster:
    data_dir: Path
    port: int = 0
    fsync: bool = False
    log_file: Path | None = None
    _proc: subprocess.Popen[bytes] | None = field(default=None, init=False, repr=False)

    @property
    def url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def dsn(self, dbname: str = "postgres", user: str = "postgres") -> str:
        return f"postgresql://{user}@127.0.0.1:{self.port}/{dbname}"

    def start(self, timeout: float = 60.0) -> PgCluster:
        bindir = find_bindir()
        self.data_dir.mkdir(parents=True, exist_ok=True)
        _make_accessible(self.data_dir)
        if not (self.data_dir / "PG_VERSION").exists():
            subprocess.run(
                _as_postgres_user(
                    [
                        str(bindir / "initdb"),
                        "--no-sync",
                        "-D",
                        str(self.data_dir),
                        "-U",
                        "postgres",
                        "-A",
                        "trust",
                        "-E",
                        "UTF8",
                        "--locale=C.UTF-8",
                    ]
                ),
                check=True,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.PIPE,
            )
        self._clear_stale_pid()
        if not self.port:
            self.port = free_port()
        log = open(self.log_file or self.data_dir.parent / f"{self.data_dir.name}.log", "ab")  # noqa: SIM115
        argv = [
            str(bindir / "postgres"),
            "-D",
            str(self.data_dir),
            "-p",
            str(self.port),
            "-c",
            "listen_addresses=127.0.0.1",
            "-c",
            f"unix_socket_directories={self.data_dir}",
            "-c",
            "max_connections=200",
            "-c",
            "shared_buffers=128MB",
        ]
        if not self.fsync:
            argv += ["-F", "-c", "synchronous_commit=off", "-c", "full_page_writes=off"]
        self._proc = subprocess.Popen(_as_postgres_user(argv), stdout=log, stderr=log, start_new_session=True)
        log.close()
        self._wait_ready(timeout)
        return self

    def _clear_stale_pid(self) -> None:
        pid_file = self.data_dir / "postmaster.pid"
        if not pid_file.exists():
            return
        try:
            pid = int(pid_file.read_text().split("\n", 1)[0])
            os.kill(pid, 0)
        except (ValueError, ProcessLookupError):
            pid_file.unlink(missing_ok=True)
            return
        except PermissionError:
            pass
        raise LocalStackError(f"a PostgreSQL server is already running on {self.data_dir} (pid {pid})")

    def _wait_ready(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._proc is not None and self._proc.poll() is not None:
                raise LocalStackError(
                    f"postgres exited with {self._proc.returncode}; see the log beside {self.data_dir}"
                )
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                    pass
                import psycopg

                with psycopg.connect(self.url, connect_timeout=2):
                    return
            except (OSError, Exception):
                time.sleep(0.05)
        raise LocalStackError(f"postgres did not become ready on port {self.port} within {timeout:.0f}s")

    def stop(self) -> None:
        proc, self._proc = self._proc, None
        if proc is None or proc.poll() is not None:
            return
        # postgres runs in its own session (runuser or not): signal the whole group.
        try:
            os.killpg(proc.pid, signal.SIGINT)  # fast shutdown
        except ProcessLookupError:
            return
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=5)
