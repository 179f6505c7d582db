"""The realtime server's frames, tokens and filters, checked against the official client's own models."""

from __future__ import annotations

import json
import struct

import pytest
from realtime.message import ServerMessageAdapter

from ponte.localstack.jwt_tokens import mint_token
from ponte.localstack.realtime import tokens
from ponte.localstack.realtime.changes import Binding, BindingError, Filter
from ponte.localstack.realtime.protocol import (
    VSN_1,
    VSN_2,
    Frame,
    ProtocolError,
    decode,
    encode,
    encode_broadcast,
    reply,
)

pytestmark = pytest.mark.unit

SECRET = "unit-test-secret-unit-test-secret-0123456789"


def user_broadcast_push(join_ref: str, ref: str, topic: str, event: str, payload: bytes, meta: bytes = b"") -> bytes:
    """A frame laid out exactly as realtime-js 2.119.1's Serializer._encodeUserBroadcastPush does."""
    fields = [join_ref.encode(), ref.encode(), topic.encode(), event.encode(), meta]
    header = struct.pack("7B", 3, *(len(f) for f in fields), 1)
    return header + b"".join(fields) + payload


def test_heartbeat_reply_is_what_realtime_py_accepts() -> None:
    heartbeat = decode('{"event":"heartbeat","topic":"phoenix","payload":{},"ref":"7"}', VSN_1)
    text = encode(reply(heartbeat, "ok", {}), VSN_1)
    assert json.loads(text) == {
        "event": "phx_reply",
        "topic": "phoenix",
        "payload": {"status": "ok", "response": {}},
        "ref": "7",
    }
    ServerMessageAdapter.validate_json(text)


def test_pushes_have_a_null_ref_as_realtime_py_requires() -> None:
    system = Frame("realtime:t", "system", {"extension": "system", "status": "error", "message": "m", "channel": "t"})
    broadcast = encode_broadcast("realtime:t", {"type": "broadcast", "event": "e", "payload": {"a": 1}}, VSN_1)
    for text in (encode(system, VSN_1), broadcast):
        assert isinstance(text, str)
        assert json.loads(text)["ref"] is None
        ServerMessageAdapter.validate_json(text)


def test_vsn2_text_frames_are_arrays() -> None:
    frame = decode('["1","2","realtime:room","phx_join",{"config":{}}]', VSN_2)
    assert frame == Frame("realtime:room", "phx_join", {"config": {}}, "2", "1")
    assert json.loads(encode(reply(frame, "ok", {}), VSN_2)) == [
        "1",
        "2",
        "realtime:room",
        "phx_reply",
        {"status": "ok", "response": {}},
    ]


def test_binary_client_broadcast_push_is_decoded() -> None:
    data = user_broadcast_push(
        "1", "5", "realtime:room", "typing", json.dumps({"t": "olá ✓"}).encode(), b'{"persist":true}'
    )
    frame = decode(data, VSN_2)
    assert (frame.topic, frame.event, frame.ref, frame.join_ref) == ("realtime:room", "broadcast", "5", "1")
    assert frame.payload == {"type": "broadcast", "event": "typing", "payload": {"t": "olá ✓"}, "persist": True}


@pytest.mark.parametrize("bad", [b"\x03\x01", b"\x02\x00\x00\x00\x00\x00\x01", b"\x03\x05\x00\x00\x00\x00\x01ab"])
def test_bad_binary_frames_are_refused(bad: bytes) -> None:
    with pytest.raises(ProtocolError):
        decode(bad, VSN_2)


def test_binary_frames_need_vsn2_and_text_frames_their_shape() -> None:
    with pytest.raises(ProtocolError):
        decode(user_broadcast_push("1", "2", "t", "e", b"{}"), VSN_1)
    with pytest.raises(ProtocolError):
        decode('{"event":"x"}', VSN_2)
    with pytest.raises(ProtocolError):
        decode("not json", VSN_1)


def test_broadcast_to_a_vsn2_client_is_kind_4_with_meta() -> None:
    data = encode_broadcast(
        "realtime:tenant:x",
        {"type": "broadcast", "event": "message_created", "payload": {"a": 1}, "meta": {"id": "m"}},
        VSN_2,
    )
    assert isinstance(data, bytes)
    kind, topic_len, event_len, meta_len, encoding = data[:5]
    assert (kind, encoding) == (4, 1)
    rest = data[5:]
    assert rest[:topic_len] == b"realtime:tenant:x"
    assert rest[topic_len : topic_len + event_len] == b"message_created"
    assert json.loads(rest[topic_len + event_len : topic_len + event_len + meta_len]) == {"id": "m"}
    assert json.loads(rest[topic_len + event_len + meta_len :]) == {"a": 1}


def test_tokens_need_role_and_exp_and_report_expiry() -> None:
    good = mint_token(SECRET, sub="u", ttl_seconds=60)
    assert tokens.verify(good, SECRET)["sub"] == "u"
    with pytest.raises(tokens.TokenError, match="Token has expired 30 seconds ago"):
        tokens.verify(mint_token(SECRET, sub="u", ttl_seconds=-30), SECRET)
    with pytest.raises(tokens.TokenError, match="JwtSignatureError"):
        tokens.verify(mint_token("another-secret-another-secret-0123456789", sub="u"), SECRET)
    with pytest.raises(tokens.TokenError, match="Role 'postgres' is not allowed"):
        tokens.verify(mint_token(SECRET, sub="u", role="postgres"), SECRET)
    with pytest.raises(tokens.TokenError, match="missing"):
        tokens.verify("", SECRET)


@pytest.mark.parametrize(
    ("text", "record", "matches"),
    [
        ("direction=eq.in", {"direction": "in"}, True),
        ("direction=eq.in", {"direction": "out"}, False),
        ("direction=neq.in", {"direction": "out"}, True),
        ("n=gt.5", {"n": 10}, True),
        ("n=lte.5", {"n": 10}, False),
        ("status=in.(open,closed)", {"status": "closed"}, True),
        ("status=in.(open,closed)", {"status": "spam"}, False),
        ("flag=eq.true", {"flag": True}, True),
        ("body=eq.x", {"body": None}, False),
        ("missing=eq.x", {"other": "x"}, False),
    ],
)
def test_filters(text: str, record: dict[str, object], matches: bool) -> None:
    assert Filter.parse(text).matches(record) is matches


def test_bindings_are_echoed_with_a_stable_id_and_bad_ones_refused() -> None:
    params = {"event": "INSERT", "schema": "public", "table": "messages", "filter": "tenant_id=eq.x"}
    first, again = Binding.from_params(params), Binding.from_params(dict(params))
    assert first.id == again.id and first.echo() == {**params, "id": first.id}
    assert first.covers("public", "messages", "INSERT") and not first.covers("public", "messages", "UPDATE")
    with pytest.raises(BindingError):
        Binding.from_params({"event": "TRUNCATE", "table": "messages"})
    with pytest.raises(BindingError):
        Binding.from_params({"event": "*", "table": "messages", "filter": "tenant_id=like.x"})
