"""A child process of the local stack, as the supervisor sees it."""

from __future__ import annotations

import subprocess


class ChildProcess:
    """Mixed into the local stack's process wrappers, which keep their ``Popen`` in ``_proc``."""

    _proc: subprocess.Popen[bytes] | None

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc is not None else None

    def alive(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    def exit_reason(self) -> str:
        code = self._proc.poll() if self._proc is not None else None
        return "not started" if self._proc is None else f"exited with {code}"
