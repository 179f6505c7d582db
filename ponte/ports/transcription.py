"""Voice-note transcription: a port for a later feature (no model ships with Ponte today).

The media function calls it for every stored voice note when one is configured and keeps the
text on the file's row (``message_media.transcript``); without one nothing is transcribed.
"""

from __future__ import annotations

from abc import ABC, abstractmethod


class Transcriber(ABC):
    @abstractmethod
    def transcribe(self, audio: bytes, content_type: str, *, language: str = "pt-BR") -> str | None:
        """The text spoken in ``audio``, or None when nothing intelligible was said. Never raises for
        bad audio (None); raises only when the transcriber itself is unavailable (the job retries)."""
