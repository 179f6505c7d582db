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
        receivers: int = 1,
    ) -> None:
        """``receivers``: loops receiving and invoking at once, like the concurrent Lambda
        invocations an event source mapping runs for a busy queue."""
        self._client = client
        self._url = queue_url
        self._handler = handler
        self._function_name = function_name
        self._batch_size = batch_size
        self._wait = wait_seconds
        self._stop = threading.Event()
        self._threads: list[threading.Thread | None] = [None] * max(1, receivers)
        self._killed = threading.Event()
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
        if self._killed.is_set():  # the process "died" before deleting: SQS redelivers the whole batch
            return len(messages)
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
        """Starts the receivers that are not running (all of them the first time)."""
        if not self.alive():
            self._stop.clear()
            self._killed.clear()
        for n, thread in enumerate(self._threads):
            if thread is None or not thread.is_alive():
                name = f"poller-{self._function_name}" + (f"-{n}" if len(self._threads) > 1 else "")
                started = threading.Thread(target=self._run, name=name, daemon=True)
                started.start()
                self._threads[n] = started
        return self

    @property
    def function_name(self) -> str:
        return self._function_name

    def alive(self) -> bool:
        return all(thread is not None and thread.is_alive() for thread in self._threads)

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

    def kill(self) -> None:
        """A crash, as far as a thread can have one: the batch being handled is never deleted (its
        messages come back after the visibility timeout, those already handled included) and the
        poller ends; ``start`` (or the local stack's supervisor) brings it back."""
        self._killed.set()
        self._stop.set()

    def stop(self) -> None:
        self._stop.set()
        for thread in self._threads:
            if thread is not None:
                thread.join(timeout=self._wait + 5)
