"""Agents' corrections make later messages of their tenant better classified (a replay on the
local stack with the real inference worker and its packaged models, through the REST surface),
and the feedback routes answer with clear errors.

What is under test is the loop: correction -> tenant example memory -> AnalyzeRequest.examples
-> the worker's nearest-neighbour memory -> stored analysis.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from ponte.localstack.stack import LocalStack
from ponte.services.intake import SECRET_HEADER

pytestmark = pytest.mark.e2e

DEMO = Path(__file__).resolve().parents[2] / "ponte/localstack/demo/evolution/messages.upsert__text-inbound-v2__01.json"

# The tenant's own ways of saying things, written for this test. For each family the first
# message is the one an agent corrects; the others are held out.
FAMILIES: list[tuple[str, list[str]]] = [
    (
        "billing_negotiation",
        ["achei salgado demais esse valor", "ficou salgado demais esse valor pra mim", "muito salgado esse valor viu"],
    ),
    (
        "billing_negotiation",
        [
            "tem como dar um jeitinho no preço",
            "tem como dar um jeitinho no preço do kit",
            "dá pra dar um jeitinho no preço",
        ],
    ),
    ("complaint", ["o produto veio zoado", "o produto veio todo zoado", "produto veio zoado de novo"]),
    (
        "billing_payment",
        ["me manda a chave que eu acerto hoje", "me manda a chave que eu acerto", "manda a chave que eu acerto agora"],
    ),
]
CONTROLS = [("purchase_interest", "quanto custa a blusa preta?"), ("billing_payment", "segue o comprovante do pix")]


def payload(message_id: str, jid: str, text: str, at: datetime) -> bytes:
    body = json.loads(DEMO.read_text())
    body["data"]["key"].update({"id": message_id, "remoteJid": jid})
    body["data"]["message"] = {"conversation": text}
    body["data"]["messageTimestamp"] = int(at.timestamp())
    return json.dumps(body).encode()


@pytest.fixture
def running(db_dsn: str, tmp_path: Path) -> Iterator[LocalStack]:
    """The local stack with the real inference worker (the ``worker`` extra is part of ``make venv``)."""
    stack = LocalStack(
        state_dir=tmp_path / "state", database_url=db_dsn, proxy_port=0, keep_data=False, run_worker=True
    )
    try:
        stack.start()
        assert stack.worker is not None, "the inference worker did not start"
        yield stack
    finally:
        stack.stop()


def member(stack: LocalStack) -> dict[str, Any]:
    assert stack.demo is not None
    return {"sub": stack.demo.user_id, "role": "authenticated"}


def analysed_intents(stack: LocalStack, prefix: str, n: int) -> dict[str, tuple[str, str]]:
    """provider message id -> (message id, stored intent), read through RLS, once all n are analysed."""
    assert stack.db is not None
    deadline = time.monotonic() + 30
    while True:
        with stack.db.as_user(member(stack)) as conn:
            rows = conn.execute(
                "select m.provider_message_id as pid, m.id::text as id, a.intent from public.messages m"
                " join public.message_analyses a on a.message_id = m.id where m.provider_message_id like %s",
                (prefix + "%",),
            ).fetchall()
        if len(rows) >= n or time.monotonic() > deadline:
            return {r["pid"]: (r["id"], r["intent"]) for r in rows}
        time.sleep(0.2)


def send_round(stack: LocalStack, prefix: str, texts: list[str]) -> None:
    start = datetime.now(UTC).replace(microsecond=0)
    headers = {"Content-Type": "application/json", SECRET_HEADER: stack.secrets.demo_webhook_secret}
    for i, text in enumerate(texts):
        # one customer per message, so each text stands alone
        body = payload(f"{prefix}{i:02d}", f"55119876{i:05d}@s.whatsapp.net", text, start + timedelta(seconds=i))
        assert httpx.post(stack.webhook_url(), content=body, headers=headers, timeout=10).status_code == 200


def accuracy(intents: dict[str, tuple[str, str]], prefix: str, gold: list[str], indexes: list[int]) -> float:
    hits = [intents[f"{prefix}{i:02d}"][1] == gold[i] for i in indexes]
    return sum(hits) / len(hits)


def test_corrections_improve_the_tenants_later_classifications(running: LocalStack) -> None:
    stack = running
    texts = [t for _, family in FAMILIES for t in family] + [t for _, t in CONTROLS]
    gold = [label for label, family in FAMILIES for _ in family] + [label for label, _ in CONTROLS]
    corrected = [3 * f for f in range(len(FAMILIES))]
    held_out = [i for i in range(3 * len(FAMILIES)) if i not in corrected]
    controls = list(range(3 * len(FAMILIES), len(texts)))
    # GIVEN the tenant's messages analysed before any correction
    send_round(stack, "RB", texts)
    before = analysed_intents(stack, "RB", len(texts))
    assert len(before) == len(texts)
    # WHEN an agent corrects one message of each family through the REST surface
    auth = {"Authorization": f"Bearer {stack.demo_token()}"}
    for i in corrected:
        message_id = before[f"RB{i:02d}"][0]
        response = httpx.post(
            f"{stack.proxy_url}/messages/{message_id}/analysis/correction",
            json={"intent": gold[i]},
            headers=auth,
            timeout=10,
        )
        assert response.status_code == 200, response.text
        assert response.json()["intent"] == gold[i]
    # AND the same messages arrive again
    send_round(stack, "RA", texts)
    after = analysed_intents(stack, "RA", len(texts))
    # THEN the held-out messages are classified better, and nothing that was right got worse
    held_before, held_after = accuracy(before, "RB", gold, held_out), accuracy(after, "RA", gold, held_out)
    print(f"held-out intent accuracy: before {held_before:.3f}, after {held_after:.3f}")
    assert held_after >= 0.75 and held_after - held_before >= 0.25, (held_before, held_after)
    assert accuracy(after, "RA", gold, controls) >= accuracy(before, "RB", gold, controls)


def test_feedback_routes_need_a_member_and_answer_with_reasons(running: LocalStack) -> None:
    stack = running
    send_round(stack, "FB", ["quanto custa a blusa preta?"])
    [(message_id, _)] = analysed_intents(stack, "FB", 1).values()
    auth = {"Authorization": f"Bearer {stack.demo_token()}"}
    base = f"{stack.proxy_url}/messages/{message_id}/analysis"
    # the agent's view: score parts, SLA and a suggestion that was not sent
    view = httpx.get(base, headers=auth, timeout=10).json()
    assert view["score"] == view["score_parts"]["total"] and view["suggestion"]["outcome"] is None
    # errors: no token, bad labels, unknown message
    assert httpx.post(f"{base}/correction", json={"intent": "complaint"}, timeout=10).status_code == 401
    bad = httpx.post(f"{base}/correction", json={"intent": "buy"}, headers=auth, timeout=10)
    assert (bad.status_code, bad.json()["code"]) == (422, "invalid_correction")
    missing = httpx.get(f"{stack.proxy_url}/messages/00000000-0000-4000-8000-000000000000/analysis", headers=auth)
    assert (missing.status_code, missing.json()["code"]) == (404, "not_found")
    # the agent discards the suggestion, once
    suggestion = f"{stack.proxy_url}/suggestions/{view['suggestion']['id']}/outcome"
    assert httpx.post(suggestion, json={"outcome": "discarded"}, headers=auth, timeout=10).status_code == 200
    again = httpx.post(suggestion, json={"outcome": "discarded"}, headers=auth, timeout=10)
    assert (again.status_code, again.json()["code"]) == (409, "already_decided")
    sent = httpx.post(suggestion, json={"outcome": "as_is"}, headers=auth, timeout=10)
    assert (sent.status_code, sent.json()["code"]) == (422, "invalid_outcome")
