"""Copy a real gateway payload into a test fixture with fake personal data.

    python tools/anonymize_payload.py SRC.json DEST.json

Keeps the structure, the key order, the message ids, the timestamps and every other value;
replaces, consistently inside the file: phone digits in JIDs (country code, DDD and the
first subscriber digit kept, so the 9th-digit and landline cases survive), @lid and group
ids, push / profile names, media keys and hashes, API keys and tunnel host names.
"""

from __future__ import annotations

import hashlib
import json
import re
import sys
from pathlib import Path
from typing import Any

_JID_USER = re.compile(r"(\d{8,20})(?=(?::\d+)?@(?:s\.whatsapp\.net|c\.us|lid|g\.us))")
_NAME_KEYS = {"pushName", "notifyName", "pushname", "formattedName", "name", "verifiedName", "profileName"}
_SECRET_KEYS = {
    "mediaKey",
    "fileSha256",
    "fileEncSha256",
    "messageSecret",
    "senderKeyHash",
    "recipientKeyHash",
    "midQualityFileSha256",
    "axolotlSenderKeyDistributionMessage",
    "apikey",
}
_TUNNEL = re.compile(r"[0-9a-f]{4}-[0-9-]+\.ngrok-free\.app")
FAKE_NAMES = ("Ana Teste", "Bruno Exemplo", "Carla Fictícia", "Davi Modelo", "Elisa Amostra", "Fábio Simulado")


def _digits(seed: str, n: int) -> str:
    out = ""
    counter = 0
    while len(out) < n:
        out += "".join(c for c in hashlib.sha256(f"{seed}{counter}".encode()).hexdigest() if c.isdigit())
        counter += 1
    return out[:n]


def fake_number(real: str) -> str:
    """Same length; keeps what decides canonicalization: country code + DDD + first subscriber digit."""
    keep = 5 if real.startswith("55") else 4 if len(real) >= 10 else 0
    return real[:keep] + _digits(real, len(real) - keep)


def _fake_b64(real: str) -> str:
    h = hashlib.sha256(real.encode()).digest()
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
    body = "".join(alphabet[h[i % len(h)] % 64] for i in range(len(real.rstrip("="))))
    return body + "=" * (len(real) - len(real.rstrip("=")))


class Anonymizer:
    def __init__(self) -> None:
        self.numbers: dict[str, str] = {}
        self.names: dict[str, str] = {}

    def collect(self, raw: str) -> None:
        for real in _JID_USER.findall(raw):
            self.numbers.setdefault(real, fake_number(real))

    def value(self, key: str | None, value: Any) -> Any:
        if isinstance(value, dict):
            return {k: self.value(k, v) for k, v in value.items()}
        if isinstance(value, list):
            return [self.value(key, v) for v in value]
        if not isinstance(value, str):
            return value
        if key in _NAME_KEYS and value:
            return self.names.setdefault(value, FAKE_NAMES[len(self.names) % len(FAKE_NAMES)])
        if key in _SECRET_KEYS and value:
            return _fake_b64(value)
        return self.text(value)

    def text(self, value: str) -> str:
        for real, fake in sorted(self.numbers.items(), key=lambda kv: -len(kv[0])):
            value = value.replace(real, fake)
        return _TUNNEL.sub("0000-203-0-113-1.ngrok-free.app", value)


def anonymize(raw: str) -> Any:
    anonymizer = Anonymizer()
    anonymizer.collect(raw)
    return anonymizer.value(None, json.loads(raw))


def main(argv: list[str]) -> int:
    src, dest = Path(argv[1]), Path(argv[2])
    dest.write_text(json.dumps(anonymize(src.read_text()), ensure_ascii=False, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
