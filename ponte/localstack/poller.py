"""Feeds SQS messages to a Lambda handler in Lambda's SQS event shape.

Like the Lambda event source mapping: records keep their real message ids, the
handler's ``batchItemFailures`` stay in the queue for redelivery after the
visibility timeout, and SQS moves them to the DLQ after maxReceiveCount.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from chalice.local import LambdaContext

from ponte.localstack.log import logger

Handler = Callable[[dict[str, Any], Any], Any]


def to_lambda_event(messages: list[dict[str, Any]], queue_arn: str, region: str) -> dict[str, Any]:
    return {
        "Records": [
            {
                "messageId": m["MessageId"],
                "receiptHandle": m["ReceiptHandle"],
                "body": m["Body"],
                "attributes": m.get("Attributes", {}),
                "messageAttributes": m.get("MessageAttributes", {}),
                "md5OfBody": m.get("MD5OfBody", ""),
                "eventSource": "aws:sqs",
                "eventSourceARN": queue_arn,
                "awsRegion": region,
            }
            for m in messages
        ]
    }


class QueuePoller:
    def __init__(
        self,
        client: Any,
        queue_url: str,
        handler: Handler,
        *,
        function_name: str,
        batch_size: int = 10,
        wait_seconds: int = 1,
    ) -> None:
        self._client = client
        self._url = queue_url
        self._handler = handler
        self._function_name = function_name
        self._batch_size = batch_size
        self._wait = wait_seconds
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        attrs = client.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"]
        self._arn = attrs["QueueArn"]
        self._region = self._arn.split(":")[3]

    def poll_once(self) -> int:
        """One receive -> invoke -> delete cycle; returns how many messages were handled."""
        response = self._client.receive_message(
            QueueUrl=self._url,
            MaxNumberOfMessages=self._batch_size,
            WaitTimeSeconds=self._wait,
            AttributeNames=["All"],
            MessageAttributeNames=["All"],
        )
        messages = response.get("Messages") or []
        if not messages:
            return 0
        event = to_lambda_event(messages, self._arn, self._region)
        failed = self._invoke(event, messages)
        done = [m for m in messages if m["MessageId"] not in failed]
        if done:
            self._client.delete_message_batch(
                QueueUrl=self._url,
                Entries=[{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(done)],
            )
        return len(messages)

    def _invoke(self, event: dict[str, Any], messages: list[dict[str, Any]]) -> set[str]:
        context = LambdaContext(self._function_name, 512, max_runtime_ms=60_000)
        try:
            result = self._handler(event, context)
        except Exception:  # the whole batch failed, as Lambda would report it
            logger.exception("handler %s failed the whole batch", self._function_name)
            return {m["MessageId"] for m in messages}
        failures = (result or {}).get("batchItemFailures") or []
        return {f["itemIdentifier"] for f in failures}

    def start(self) -> QueuePoller:
        self._thread = threading.Thread(target=self._run, name=f"poller-{self._function_name}", daemon=True)
        self._thread.start()
        return self

    @property
    def function_name(self) -> str:
        return self._function_name

    def alive(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def _run(self) -> None:
        failing = False
        while not self._stop.is_set():
            try:
                self.poll_once()
            except Exception:  # keep polling; the queue keeps what was not deleted
                # once per outage, not once a second: the endpoint may be down for a while
                if not failing:
                    logger.warning("poller %s: SQS failed, retrying every second", self._function_name, exc_info=True)
                failing = True
                self._stop.wait(1.0)
                continue
            if failing:
                logger.warning("poller %s: SQS answers again", self._function_name)
            failing = False

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=self._wait + 5)
