"""The HTTP fuzz of issue 14, briefly, against the running local stack: no 5xx, a machine code on
every 4xx, one diagnostics row per request, and every accepted message stored once the queues
drain. ``ponte fuzz --minutes N`` runs the same for longer."""

from __future__ import annotations

import json

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ponte.localstack.fuzz import Case, FuzzReport, expected_messages, missing_messages, run_fuzz, send, stack_targets
from ponte.localstack.stack import LocalStack
from tests.unit.test_intake_hostile_bodies import text_body

pytestmark = pytest.mark.e2e

UNLIMITED = {"instance_events_per_second": 1e6, "instance_events_burst": 1e6}


@pytest.mark.parametrize("stack_overrides", [UNLIMITED])
def test_mutated_fixture_bodies_never_break_the_edge_or_lose_a_message(stack: LocalStack) -> None:
    report = run_fuzz(stack_targets(stack), stack.dsn, requests=250, seed=14, max_array=120, drain_timeout=90)
    print(json.dumps(report.summary()), dict(report.by_mutation))
    assert report.violations == []
    # the run exercised both outcomes: accepted messages and refusals
    assert report.expected_ids and any(400 <= s < 500 for s in report.by_status)


@pytest.mark.parametrize("stack_overrides", [UNLIMITED])
def test_any_string_in_the_text_of_a_message_is_answered_and_stored(stack: LocalStack) -> None:
    (evolution, _) = stack_targets(stack)
    report = FuzzReport()
    counter = iter(range(10**6))

    @settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
    @given(st.text(st.characters(exclude_categories=()), max_size=40), st.booleans())
    def post_one(text: str, escaped: bool) -> None:
        body = text_body(text=text, message_id=f"HYP{next(counter):06d}")
        raw = body if escaped else json.dumps(json.loads(body), ensure_ascii=False).encode("utf-8", "surrogatepass")
        with httpx.Client(timeout=30) as client:
            send(client, evolution, Case(raw, "application/json", "hypothesis"), report)

    post_one()
    assert report.violations == []
    assert missing_messages(stack.dsn, report.expected_ids, timeout=60) == set()
    assert expected_messages(evolution, text_body(message_id="x")) == {"x"}
