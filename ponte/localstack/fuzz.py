"""Hostile bodies against a running local stack's webhook edge, over real HTTP (issue 14).

Bodies are the providers' captured fixtures, mutated: hostile strings (every C0/C1 control,
NUL, lone surrogates, BOM, line separators, very long text) in a random field, leaves replaced by
other types, deep nesting, large arrays (under and over the event cap), truncated and flipped
bytes, odd content types. Each request must end 2xx/4xx with a machine code and leave one
diagnostics row; once the queues drain, every message the edge accepted must be stored (or
quarantined with a reason at ingest). ``run_fuzz`` returns the violations; the test suite runs
it briefly, ``ponte fuzz --minutes N`` for long runs.
"""

from __future__ import annotations

import json
import random
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx
import psycopg

from ponte.domain.events import MessageEvent
from ponte.domain.privacy import PrivacyPolicy, screen_all
from ponte.localstack.seed import seed_tenant
from ponte.services.exceptions import ServiceError
from ponte.services.intake import MAX_EVENTS_PER_BODY, SECRET_HEADER
from ponte.services.json_body import parse_json_body
from proxy import providers

if TYPE_CHECKING:
    from ponte.localstack.stack import LocalStack

FIXTURES = Path(providers.__file__).resolve().parent

HOSTILE_STRINGS = (
    "\x00",
    "a\x00b",
    "\ud800",
    "\udfff",
    "x\ud83d",
    "\udc00y",
    "\ufeff",
    "\u2028\u2029",
    "\u202eRTL",
    "".join(chr(c) for c in range(32)),
    "".join(chr(c) for c in range(0x7F, 0xA0)),
    "\\u0000",
    "\\",
    '"',
    "%00",
    "9" * 400,
    "ç" * 20_000,
)
CONTENT_TYPES = (
    "application/json",
    "application/json; charset=utf-8",
    "text/plain",
    "application/octet-stream",
    "application/xml",
    "multipart/form-data; boundary=x",
    "application/x-www-form-urlencoded",
    "image/png",
    "",
)
STANDALONE = (b"", b" ", b"null", b"[]", b"{}", b'"texto"', b"0", b"-1e999999", b"NaN", b"\xef\xbb\xbf{}")


@dataclass(frozen=True)
class Target:
    provider: str
    url: str
    secret: str
    gateway_instance: str


@dataclass(frozen=True)
class Case:
    body: bytes
    content_type: str
    mutation: str


@dataclass
class FuzzReport:
    requests: int = 0
    by_status: Counter[int] = field(default_factory=Counter)
    by_mutation: Counter[str] = field(default_factory=Counter)
    violations: list[str] = field(default_factory=list)
    expected_ids: set[str] = field(default_factory=set)

    def summary(self) -> dict[str, Any]:
        return {
            "requests": self.requests,
            "by_status": {str(k): v for k, v in sorted(self.by_status.items())},
            "accepted_messages": len(self.expected_ids),
            "violations": len(self.violations),
        }


def fixtures(provider: str) -> list[Any]:
    return [json.loads(p.read_bytes()) for p in sorted((FIXTURES / provider / "fixtures").glob("*.json"))]


def _leaves(value: Any, path: tuple[Any, ...] = ()) -> Iterator[tuple[tuple[Any, ...], Any]]:
    if isinstance(value, dict):
        for k, v in value.items():
            yield from _leaves(v, (*path, k))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield from _leaves(v, (*path, i))
    else:
        yield path, value


def _set(value: Any, path: tuple[Any, ...], new: Any) -> None:
    for key in path[:-1]:
        value = value[key]
    value[path[-1]] = new


def _encode(payload: Any, rng: random.Random) -> bytes:
    """As JSON, escaped (\\u sequences, as gateways send) or raw UTF-8 (lone surrogates then are
    invalid UTF-8 bytes on the wire)."""
    if rng.random() < 0.7:
        return json.dumps(payload).encode()
    return json.dumps(payload, ensure_ascii=False).encode("utf-8", "surrogatepass")


class Mutator:
    def __init__(self, seeds: list[Any], rng: random.Random, *, max_array: int) -> None:
        self._seeds = seeds
        self._rng = rng
        self._max_array = max_array

    def case(self) -> Case:
        name, build = self._rng.choice(self._mutations())
        return Case(build(), self._rng.choice(CONTENT_TYPES) if self._rng.random() < 0.2 else "application/json", name)

    def _mutations(self) -> list[tuple[str, Callable[[], bytes]]]:
        return [
            ("fixture", lambda: _encode(self._fresh(), self._rng)),
            ("hostile_string", self._hostile_string),
            ("hostile_string", self._hostile_string),
            ("retyped_leaf", self._retyped_leaf),
            ("deep_nesting", self._deep),
            ("large_array", self._large_array),
            ("bytes", self._bytes),
            ("standalone", lambda: self._rng.choice(STANDALONE)),
        ]

    def _fresh(self) -> Any:
        """A deep copy of a fixture whose string ids are made unique (so stored rows can be counted)."""
        payload = json.loads(json.dumps(self._rng.choice(self._seeds)))
        for path, leaf in _leaves(payload):
            if path and path[-1] == "id" and isinstance(leaf, str) and len(leaf) >= 8:
                _set(payload, path, f"FZ{self._rng.getrandbits(48):012X}")
        return payload

    def _string_leaf(self, payload: Any) -> tuple[Any, ...] | None:
        paths = [p for p, v in _leaves(payload) if isinstance(v, str) and p]
        return self._rng.choice(paths) if paths else None

    def _hostile_string(self) -> bytes:
        payload = self._fresh()
        for _ in range(self._rng.randint(1, 3)):
            path = self._string_leaf(payload)
            if path is not None:
                hostile = self._rng.choice(HOSTILE_STRINGS)
                leaf: str = payload
                for key in path:
                    leaf = leaf[key]
                cut = self._rng.randint(0, len(leaf))
                _set(payload, path, leaf[:cut] + hostile + leaf[cut:])
        return _encode(payload, self._rng)

    def _retyped_leaf(self) -> bytes:
        payload = self._fresh()
        paths = [p for p, _ in _leaves(payload) if p]
        if paths:
            new = self._rng.choice([None, True, 0, -1, 10**30, 1.5e308, "", [], {}, [1, "a"], {"a": {"b": None}}])
            _set(payload, self._rng.choice(paths), new)
        return _encode(payload, self._rng)

    def _deep(self) -> bytes:
        depth = self._rng.choice([100, 1000, 1025, 5000, 100_000])
        if self._rng.random() < 0.5:
            return b"[" * depth + b"]" * depth
        return b'{"data":' * depth + b"{}" + b"}" * depth

    def _large_array(self) -> bytes:
        upserts = [
            s for s in self._seeds if isinstance(s, dict) and isinstance(s.get("data"), dict) and "key" in s["data"]
        ]
        seed = self._rng.choice(upserts) if upserts else None
        count = self._rng.choice([2, 50, self._max_array, MAX_EVENTS_PER_BODY + 1])
        if seed is None:
            return json.dumps([self._fresh() for _ in range(min(count, 50))]).encode()
        payload = json.loads(json.dumps(seed))
        items = []
        for _ in range(count):
            item = json.loads(json.dumps(seed["data"]))
            for path, leaf in _leaves(item):
                if path and path[-1] == "id" and isinstance(leaf, str):
                    _set(item, path, f"FZ{self._rng.getrandbits(48):012X}")
            items.append(item)
        payload["data"] = items
        return json.dumps(payload).encode()

    def _bytes(self) -> bytes:
        body = bytearray(_encode(self._fresh(), self._rng))
        choice = self._rng.random()
        if choice < 0.4 and body:
            return bytes(body[: self._rng.randrange(len(body))])
        for _ in range(self._rng.randint(1, 8)):
            if body:
                body[self._rng.randrange(len(body))] = self._rng.randrange(256)
        return bytes(body)


def expected_messages(target: Target, body: bytes) -> set[str]:
    """The ids of the messages an accepted body must end up storing: what the live normalizer and
    the default privacy gate (no contact hidden) keep, leaving out edits/reactions/deletions,
    which change other rows."""
    try:
        normalized = providers.normalize(target.provider, parse_json_body(body), instance=target.gateway_instance)
    except ServiceError:
        return set()
    kept, _ = screen_all(normalized.events, PrivacyPolicy(), frozenset())
    return {e.provider_message_id for e in kept if isinstance(e, MessageEvent) and not e.target_message_id}


def send(client: httpx.Client, target: Target, case: Case, report: FuzzReport) -> None:
    headers = {SECRET_HEADER: target.secret}
    if case.content_type:
        headers["Content-Type"] = case.content_type
    response = client.post(target.url, content=case.body, headers=headers)
    report.requests += 1
    report.by_status[response.status_code] += 1
    report.by_mutation[case.mutation] += 1
    where = f"{case.mutation} ({len(case.body)} bytes, {case.content_type or 'no content type'})"
    if response.status_code >= 500:
        report.violations.append(f"{response.status_code} for {where}: {response.text[:200]}")
        return
    try:
        answer = response.json()
    except ValueError:
        report.violations.append(f"non-JSON answer {response.status_code} for {where}")
        return
    if response.status_code >= 400 and not answer.get("code"):
        report.violations.append(f"{response.status_code} without a machine code for {where}")
    if answer.get("outcome") == "accepted":
        report.expected_ids |= expected_messages(target, case.body)


def diagnostics_count(dsn: str) -> int:
    with psycopg.connect(dsn) as conn:
        row = conn.execute(
            "select count(*) from public.proxy_diagnostics where route like 'POST /webhooks/%'"
        ).fetchone()
    return int(row[0]) if row else 0


def missing_messages(dsn: str, ids: set[str], *, timeout: float) -> set[str]:
    """Ids neither stored nor quarantined at ingest once ``timeout`` has passed."""
    deadline = time.monotonic() + timeout
    while True:
        with psycopg.connect(dsn) as conn:
            stored = {
                r[0]
                for r in conn.execute(
                    "select provider_message_id from public.messages where provider_message_id = any(%s)", (list(ids),)
                )
            }
            quarantined = "\n".join(
                r[0]
                for r in conn.execute("select raw_payload from public.webhook_quarantine where provider = 'ingest'")
            )
        missing = {i for i in ids - stored if i not in quarantined}
        if not missing or time.monotonic() > deadline:
            return missing
        time.sleep(0.5)


WPP_INSTANCE = "00000000-0000-4000-8000-00000000f0a1"
WPP_GATEWAY_INSTANCE = "loja-wpp"


def stack_targets(stack: LocalStack) -> list[Target]:
    """The demo's Evolution instance and a WPPConnect instance seeded beside it (same tenant)."""
    assert stack.demo is not None
    secret = f"fuzz-{stack.secrets.demo_webhook_secret}"
    with psycopg.connect(stack.dsn) as conn:
        seed_tenant(
            conn,
            tenant_id=stack.demo.tenant_id,
            name="Loja Demo",
            user_id=stack.demo.user_id,
            email=stack.demo.user_email,
            instance_id=WPP_INSTANCE,
            provider="wppconnect",
            gateway_instance=WPP_GATEWAY_INSTANCE,
            webhook_secret=secret,
        )
    return [
        Target("evolution", stack.webhook_url(), stack.secrets.demo_webhook_secret, "demo"),
        Target("wppconnect", f"{stack.proxy_url}/webhooks/wppconnect/{WPP_INSTANCE}", secret, WPP_GATEWAY_INSTANCE),
    ]


def run_fuzz(
    targets: list[Target],
    dsn: str,
    *,
    seconds: float | None = None,
    requests: int | None = None,
    seed: int = 0,
    max_array: int = 300,
    drain_timeout: float = 120.0,
) -> FuzzReport:
    """Fuzz until ``requests`` were sent or ``seconds`` passed; then check diagnostics and storage."""
    rng = random.Random(seed)  # noqa: S311 - reproducible bodies, not secrets
    mutators = {t.provider: Mutator(fixtures(t.provider), rng, max_array=max_array) for t in targets}
    report = FuzzReport()
    before = diagnostics_count(dsn)
    deadline = time.monotonic() + seconds if seconds is not None else None
    with httpx.Client(timeout=30) as client:
        while (requests is None or report.requests < requests) and (deadline is None or time.monotonic() < deadline):
            target = rng.choice(targets)
            send(client, target, mutators[target.provider].case(), report)
    rows = diagnostics_count(dsn) - before
    if rows != report.requests:
        report.violations.append(f"{report.requests} requests left {rows} diagnostics rows")
    missing = missing_messages(dsn, report.expected_ids, timeout=drain_timeout)
    if missing:
        report.violations.append(f"{len(missing)} accepted messages never stored: {sorted(missing)[:5]}")
    return report
