"""A Chalice app shaped like ``functions/app.py`` once every planned handler is in:
one consumer per queue and two schedules. The stack must wire all of them with no
change to the stack (it discovers them from this object).

Named apart from the real app: ``Chalice(app_name=...)`` sets the level of the logger of
that name, which the real app's Powertools logger shares."""

from __future__ import annotations

from typing import Any

from chalice.app import Chalice, Cron, Rate, SQSEvent

app = Chalice(app_name="ponte-functions-sample")


@app.on_sqs_message(queue="ponte-ingest", batch_size=10, maximum_batching_window_in_seconds=1)
def ingest(event: SQSEvent) -> dict[str, Any]:
    return {"batchItemFailures": []}


@app.on_sqs_message(queue="ponte-analyze", batch_size=5, maximum_batching_window_in_seconds=2)
def analyze(event: SQSEvent) -> dict[str, Any]:
    return {"batchItemFailures": []}


@app.on_sqs_message(queue="ponte-purge", batch_size=1)
def purge(event: SQSEvent) -> dict[str, Any]:
    return {"batchItemFailures": []}


@app.schedule(Rate(5, unit=Rate.MINUTES))
def purge_sweep(event: Any) -> None:
    return None


@app.schedule(Cron(15, 3, "*", "*", "?", "*"))
def diagnostics_cleanup(event: Any) -> None:
    return None
