"""Phoenix channel frames as Supabase Realtime speaks them: serializers 1.0.0 and 2.0.0.

vsn 1.0.0 (realtime-py): JSON objects ``{"event","topic","payload","ref","join_ref"}``.
vsn 2.0.0 (supabase-js): JSON arrays ``[join_ref, ref, topic, event, payload]`` plus two
binary kinds of realtime-js's serializer: 3, a client's broadcast push, and 4, a
broadcast to the client (``u8 kind, u8 len(topic), u8 len(event), u8 len(meta),
u8 encoding, topic, event, meta, payload``).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

VSN_1 = "1.0.0"
VSN_2 = "2.0.0"
SUPPORTED_VSN = (VSN_1, VSN_2)

KIND_USER_BROADCAST_PUSH = 3
KIND_USER_BROADCAST = 4
ENCODING_BINARY = 0
ENCODING_JSON = 1
_PUSH_HEADER = 7  # kind + five lengths + encoding


class ProtocolError(ValueError):
    """A frame the server cannot decode."""


@dataclass(frozen=True)
class Frame:
    topic: str
    event: str
    payload: Any
    ref: str | None = None
    join_ref: str | None = None


def _optional_str(value: Any) -> str | None:
    return None if value is None else str(value)


def decode(data: str | bytes, vsn: str) -> Frame:
    if isinstance(data, bytes):
        if vsn != VSN_2:
            raise ProtocolError("binary frames need vsn 2.0.0")
        return _decode_user_broadcast_push(data)
    try:
        raw = json.loads(data)
    except json.JSONDecodeError as exc:
        raise ProtocolError(f"invalid JSON frame: {exc.msg}") from exc
    if vsn == VSN_2:
        if not isinstance(raw, list) or len(raw) != 5:
            raise ProtocolError("a vsn 2.0.0 frame is a five-element array")
        join_ref, ref, topic, event, payload = raw
    else:
        if not isinstance(raw, dict):
            raise ProtocolError("a vsn 1.0.0 frame is an object")
        join_ref, ref, topic, event, payload = (raw.get(k) for k in ("join_ref", "ref", "topic", "event", "payload"))
    if not isinstance(topic, str) or not isinstance(event, str):
        raise ProtocolError("topic and event must be strings")
    return Frame(topic, event, payload if payload is not None else {}, _optional_str(ref), _optional_str(join_ref))


def _decode_user_broadcast_push(data: bytes) -> Frame:
    if len(data) < _PUSH_HEADER or data[0] != KIND_USER_BROADCAST_PUSH:
        raise ProtocolError(f"unsupported binary frame kind {data[0] if data else None}")
    join_ref_len, ref_len, topic_len, event_len, meta_len, encoding = data[1:_PUSH_HEADER]
    fields: list[str] = []
    offset = _PUSH_HEADER
    for size in (join_ref_len, ref_len, topic_len, event_len, meta_len):
        if offset + size > len(data):
            raise ProtocolError("truncated binary frame")
        fields.append(data[offset : offset + size].decode())
        offset += size
    join_ref, ref, topic, user_event, meta = fields
    body = data[offset:]
    payload: dict[str, Any] = {"type": "broadcast", "event": user_event}
    if encoding == ENCODING_JSON:
        try:
            payload["payload"] = json.loads(body) if body else {}
        except json.JSONDecodeError as exc:
            raise ProtocolError("invalid JSON broadcast payload") from exc
    else:
        payload["payload"] = body
    if meta:
        extra = json.loads(meta)
        if isinstance(extra, dict):
            payload.update({k: v for k, v in extra.items() if k == "persist"})
    return Frame(topic, "broadcast", payload, ref or None, join_ref or None)


def encode(frame: Frame, vsn: str) -> str:
    if vsn == VSN_2:
        return json.dumps([frame.join_ref, frame.ref, frame.topic, frame.event, frame.payload], default=str)
    message: dict[str, Any] = {"event": frame.event, "topic": frame.topic, "payload": frame.payload, "ref": frame.ref}
    if frame.join_ref is not None:
        message["join_ref"] = frame.join_ref
    return json.dumps(message, default=str)


def encode_broadcast(topic: str, broadcast: dict[str, Any], vsn: str) -> str | bytes:
    """A broadcast to a client: binary kind 4 for vsn 2.0.0 (JSON payloads), a text push otherwise."""
    if vsn != VSN_2 or isinstance(broadcast.get("payload"), bytes):
        return encode(Frame(topic, "broadcast", broadcast), vsn)
    topic_b = topic.encode()
    event_b = str(broadcast.get("event", "")).encode()
    meta = broadcast.get("meta")
    meta_b = json.dumps(meta).encode() if meta else b""
    if max(len(topic_b), len(event_b), len(meta_b)) > 255:
        return encode(Frame(topic, "broadcast", broadcast), vsn)
    body = json.dumps(broadcast.get("payload", {}), default=str).encode()
    header = bytes([KIND_USER_BROADCAST, len(topic_b), len(event_b), len(meta_b), ENCODING_JSON])
    return header + topic_b + event_b + meta_b + body


def reply(frame: Frame, status: str, response: dict[str, Any]) -> Frame:
    return Frame(frame.topic, "phx_reply", {"status": status, "response": response}, frame.ref, frame.join_ref)
