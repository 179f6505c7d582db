from __future__ import annotations

from abc import ABC, abstractmethod

from ponte.domain.diagnostics import DiagnosticsEntry


class DiagnosticsLog(ABC):
    @abstractmethod
    def record(self, entry: DiagnosticsEntry) -> None: ...
