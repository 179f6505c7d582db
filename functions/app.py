"""Queue-driven functions as a Chalice app: thin handlers over the services.

SQS handlers use Powertools' BatchProcessor: each record succeeds or fails on its
own and the response lists the failures (ReportBatchItemFailures is set in infra).
"""

from __future__ import annotations

import os
from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from chalice.app import Chalice, SQSEvent

from functions.bootstrap import FunctionsContainer, bootstrap
from ponte import constants as c
from ponte.domain.analyze_job import AnalyzeJob
from ponte.domain.envelope import IngestEnvelope

app = Chalice(app_name="ponte-functions")
logger = Logger(service="ponte-functions")

INGEST_QUEUE = os.environ.get(c.INGEST_QUEUE_NAME_ENV, c.DEFAULT_INGEST_QUEUE)
ANALYZE_QUEUE = os.environ.get(c.ANALYZE_QUEUE_NAME_ENV, c.DEFAULT_ANALYZE_QUEUE)

_container: FunctionsContainer | None = None


def container() -> FunctionsContainer:
    global _container  # noqa: PLW0603
    if _container is None:
        _container = bootstrap()
    return _container


def set_container(value: FunctionsContainer | None) -> None:
    global _container  # noqa: PLW0603
    _container = value


def ingest_record(record: SQSRecord) -> None:
    envelope = IngestEnvelope.model_validate_json(record.body)
    container().ingest.handle(envelope)


def ingest_batch(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """The Lambda-shaped entry: an SQS event in, ``{"batchItemFailures": [...]}`` out."""
    response = process_partial_response(
        event=event, record_handler=ingest_record, processor=BatchProcessor(EventType.SQS), context=context
    )
    return dict(response)


@app.on_sqs_message(queue=INGEST_QUEUE, batch_size=10, maximum_batching_window_in_seconds=1)
def ingest(event: SQSEvent) -> dict[str, Any]:
    return ingest_batch(event.to_dict(), event.context)


def analyze_record(record: SQSRecord) -> None:
    job = AnalyzeJob.model_validate_json(record.body)
    outcome = container().analyze.handle(job)
    logger.info(
        "analyze",
        extra={
            "status": outcome.status,
            "reason": outcome.reason,
            "attempt": job.attempt,
            "message_id": job.message_id,
        },
    )


def analyze_batch(event: dict[str, Any], context: Any) -> dict[str, Any]:
    response = process_partial_response(
        event=event, record_handler=analyze_record, processor=BatchProcessor(EventType.SQS), context=context
    )
    return dict(response)


# Small batches: each record may wait on the worker, and the batch shares one Lambda timeout.
@app.on_sqs_message(queue=ANALYZE_QUEUE, batch_size=2, maximum_batching_window_in_seconds=1)
def analyze(event: SQSEvent) -> dict[str, Any]:
    return analyze_batch(event.to_dict(), event.context)
