"""Run the normalizers over payload files: one summary per file, then totals. Never raises.

Used by ``ponte conformance DIR`` and by the golden-output tool of the provider fixtures.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from ponte.domain.events import CanonicalEvent, ConnectionEvent, ContactsEvent, MessageEvent, QrEvent, StatusEvent
from ponte.domain.outcomes import Normalized, Outcome
from ponte.domain.privacy import PrivacyPolicy, screen, screen_all
from ponte.services.exceptions import ServiceError
from ponte.services.json_body import parse_json_body
from proxy.providers import NORMALIZERS, normalize

DEFAULT_INSTANCE = "conformance"
_DEFAULT_POLICY = PrivacyPolicy()


def payload_files(root: Path) -> list[Path]:
    return sorted(root.rglob("*.json")) if root.is_dir() else [root]


def provider_of(path: Path, default: str | None = None) -> str | None:
    """The provider a payload file belongs to: the nearest parent folder named after one."""
    for part in reversed(path.parts[:-1]):
        if part in NORMALIZERS:
            return part
    return default


def normalize_file(path: Path, provider: str, instance: str = DEFAULT_INSTANCE) -> Normalized:
    """The normalizer's verdict on a file, parsed exactly as the live edge parses a body."""
    return normalize(provider, parse_json_body(path.read_bytes()), instance=instance)


def summarize(event: CanonicalEvent) -> dict[str, Any]:
    """What a reviewer checks per event; for messages: kind, direction, chat, id, text or caption, UTC time."""
    would_drop = screen(event, _DEFAULT_POLICY, lambda _: False)[1]
    out: dict[str, Any] = {"type": event.type}
    if isinstance(event, MessageEvent):
        out |= {
            "kind": event.kind.value,
            "direction": event.direction.value,
            "chat": _identity(event.chat),
            "message_id": event.provider_message_id,
            "text": event.text if event.text is not None else (event.media.caption if event.media else None),
            "occurred_at": event.occurred_at.isoformat().replace("+00:00", "Z"),
        }
        if event.sender is not None:
            out["sender"] = _identity(event.sender)
        if event.target_message_id:
            out["target_message_id"] = event.target_message_id
    elif isinstance(event, StatusEvent):
        out |= {"message_id": event.provider_message_id, "status": event.status.value}
        out["chat"] = _identity(event.chat) if event.chat else None
    elif isinstance(event, ConnectionEvent):
        out |= {"state": event.state.value, "reason": event.reason, "status_code": event.status_code}
    elif isinstance(event, QrEvent):
        out |= {"has_qr": bool(event.qr_code or event.qr_image), "has_pairing_code": bool(event.pairing_code)}
    elif isinstance(event, ContactsEvent):
        out["contacts"] = [_identity(c.identity) for c in event.contacts]
    if would_drop:
        out["dropped_by_default_policy"] = list(would_drop)
    return out


def _identity(identity: Any) -> dict[str, Any]:
    return {
        "key": identity.key,
        "phone": identity.phone_e164,
        "jid": identity.jid,
        "lid": identity.lid,
        "kind": identity.chat_kind.value,
    }


def check_file(path: Path, provider: str | None = None, instance: str = DEFAULT_INSTANCE) -> dict[str, Any]:
    """One conformance line; any failure (unreadable file, bug) becomes an ``error`` outcome."""
    line: dict[str, Any] = {"file": str(path)}
    name = provider_of(path, provider)
    if name is None:
        return line | {"outcome": "error", "reason": "unknown_provider"}
    line["provider"] = name
    try:
        result = normalize_file(path, name, instance)
    except OSError as exc:
        return line | {"outcome": "rejected", "reason": "unreadable", "detail": type(exc).__name__}
    except ServiceError as exc:  # what the live edge answers 4xx: invalid_json, too_deep, bad_number
        return line | {"outcome": "rejected", "reason": exc.code, "detail": exc.message}
    except Exception as exc:
        return line | {"outcome": "error", "reason": "crash", "detail": f"{type(exc).__name__}: {exc}"[:200]}
    line |= {"event": result.event_name, "outcome": result.outcome.value, "reason": result.reason}
    if result.detail:
        line["detail"] = result.detail
    if result.outcome is Outcome.ACCEPTED:
        line |= _gate_outcome(result)
    if result.events:
        line["events"] = [summarize(e) for e in result.events]
    return line


def _gate_outcome(result: Normalized) -> dict[str, Any]:
    """What the live privacy gate makes of accepted events under the default policy (no hidden
    contacts): all dropped reads ``ignored`` with the first reason, as the webhook answers."""
    kept, dropped = screen_all(result.events, _DEFAULT_POLICY, frozenset())
    if not kept:
        return {"outcome": "ignored", "reason": dropped[0] if dropped else "no_events"}
    return {"dropped": len(dropped)} if dropped else {}


def run(paths: Iterable[Path], provider: str | None = None) -> Iterator[dict[str, Any]]:
    """Lines for every file, then ``{"totals": {...}}`` as the last item."""
    totals: Counter[str] = Counter()
    for path in paths:
        line = check_file(path, provider)
        totals["files"] += 1
        totals[str(line["outcome"])] += 1
        yield line
    yield {"totals": {"files": totals["files"], **{k: v for k, v in sorted(totals.items()) if k != "files"}}}
