"""The metrics' own pieces without a database: the collector's families (a fake row source), the
scrape's authorization, and the CloudWatch copy of each observation on Lambda (EMF lines)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.parser import text_string_to_metric_families

from ponte.adapters.prometheus import (
    INGEST_SECONDS,
    OperationsCollector,
    count_webhook,
    exposition,
    timed,
)
from ponte.domain.accounts import Membership
from ponte.ports.accounts import MembershipReader
from ponte.services.exceptions import ForbiddenError, UnauthorizedError
from ponte.services.metrics import MetricsService

A, B = "00000000-0000-4000-8000-0000000000a1", "00000000-0000-4000-8000-0000000000b1"


class Rows:
    """What the database would answer, by the table each query reads; remembers the tenants asked for."""

    def __init__(self) -> None:
        self.asked: list[Any] = []

    def __call__(self, sql: str, args: dict[str, Any]) -> list[dict[str, Any]]:
        self.asked.append(args["tenants"])
        if "group by 1, 2" in sql and "state <> 'resolved'" in sql:
            return [{"tenant_id": A, "state": "waiting", "n": 3}, {"tenant_id": A, "state": "in_service", "n": 2}]
        if "state = 'waiting'" in sql:
            return [{"tenant_id": A, "team_id": "none", "n": 3, "oldest": 125.5}]
        if "sla_breach" in sql:
            return [{"tenant_id": A, "n": 7}]
        if "agent_presence" in sql:
            return [{"tenant_id": A, "status": "online", "n": 1}]
        return [{"tenant_id": A, "id": "i1", "provider": "evolution", "status": "open"},
                {"tenant_id": A, "id": "i2", "provider": "wppconnect", "status": "not_logged"}]  # fmt: skip


class Members(MembershipReader):
    def __init__(self, roles: dict[str, str]) -> None:
        self._roles = roles

    def memberships(self, claims: Any) -> list[Membership]:
        return [Membership(tenant_id=t, tenant_name="T", role=r) for t, r in self._roles.items()]  # type: ignore[arg-type]


def families(collector: OperationsCollector) -> dict[str, list[tuple[dict[str, str], float]]]:
    registry = CollectorRegistry()
    registry.register(collector)
    found: dict[str, list[tuple[dict[str, str], float]]] = {}
    for family in text_string_to_metric_families(generate_latest(registry).decode()):
        for sample in family.samples:
            found.setdefault(sample.name, []).append((dict(sample.labels), sample.value))
    return found


def test_the_collector_reads_live_gauges_with_ids_only() -> None:
    found = families(OperationsCollector(Rows(), lambda: [("ingest", 4, 1, 0)]))
    assert ({"tenant_id": A, "state": "waiting"}, 3.0) in found["ponte_conversations"]
    assert found["ponte_queue_oldest_wait_seconds"] == [({"tenant_id": A, "team_id": "none"}, 125.5)]
    assert found["ponte_sla_breaches_total"] == [({"tenant_id": A}, 7.0)]
    up = {labels["instance_id"]: value for labels, value in found["ponte_instance_up"]}
    assert up == {"i1": 1.0, "i2": 0.0}
    assert ({"queue": "ingest", "state": "visible"}, 4.0) in found["ponte_sqs_messages"]


def test_sqs_down_leaves_the_other_series() -> None:
    def broken() -> list[tuple[str, int, int, int]]:
        raise OSError("no route to SQS")

    found = families(OperationsCollector(Rows(), broken))
    assert "ponte_conversations" in found and "ponte_sqs_messages" not in found


def service(roles: dict[str, str], rows: Rows) -> MetricsService:
    def verify(token: str) -> dict[str, Any]:
        if token != "a-valid-jwt":
            raise UnauthorizedError("invalid token")
        return {"sub": "u", "role": "authenticated"}

    return MetricsService(
        token="scraper-token-0123456789",
        verify=verify,
        memberships=Members(roles),
        collector=lambda tenants: OperationsCollector(rows, None, tenants),
        exposition=exposition,
    )


def test_who_may_scrape_and_what_they_see() -> None:
    rows = Rows()
    for header in (None, "", "Basic abc", "Bearer ", "Bearer wrong"):
        with pytest.raises(UnauthorizedError):
            service({A: "owner"}, rows).scrape(header)
    with pytest.raises(ForbiddenError):
        service({A: "agent"}, rows).scrape("Bearer a-valid-jwt")
    assert b"ponte_conversations" in service({}, rows).scrape("Bearer scraper-token-0123456789")
    assert rows.asked[-1] is None  # the scraper: every tenant
    service({A: "admin", B: "agent"}, rows).scrape("Bearer a-valid-jwt")
    assert rows.asked[-1] == [A]  # an admin: the tenants they administer only


def test_on_lambda_each_observation_is_also_a_cloudwatch_metric(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    count_webhook("evolution", "accepted")
    assert capsys.readouterr().out == ""  # not on Lambda: Prometheus only
    monkeypatch.setenv("AWS_LAMBDA_FUNCTION_NAME", "ponte-functions-ingest")
    count_webhook("evolution", "rejected")
    with timed(INGEST_SECONDS, "ponte_ingest_batch_seconds"):
        pass
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [line["_aws"]["CloudWatchMetrics"][0]["Namespace"] for line in lines] == ["Ponte", "Ponte"]
    assert lines[0]["ponte_webhooks"] == [1.0] and (lines[0]["provider"], lines[0]["outcome"]) == (
        "evolution", "rejected")  # fmt: skip
    assert lines[1]["_aws"]["CloudWatchMetrics"][0]["Metrics"] == [{"Name": "ponte_ingest_batch_seconds",
                                                                    "Unit": "Seconds"}]  # fmt: skip
