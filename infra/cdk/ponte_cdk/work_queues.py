"""A work queue: the SQS queue a Lambda consumes, its dead-letter queue, and an alarm on the DLQ."""

from __future__ import annotations

from aws_cdk import Duration
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from ponte_cdk.wiring import MAX_RECEIVE_COUNT, QueueSpec


class WorkQueue(Construct):
    def __init__(
        self, scope: Construct, construct_id: str, *, spec: QueueSpec, visibility_timeout_seconds: int
    ) -> None:
        super().__init__(scope, construct_id)
        self.spec = spec
        # Poison messages are kept for the maximum (14 days) so someone can look at them.
        self.dlq = sqs.Queue(
            self,
            "DeadLetters",
            retention_period=Duration.days(14),
            encryption=sqs.QueueEncryption.SQS_MANAGED,
            enforce_ssl=True,
        )
        self.queue = sqs.Queue(
            self,
            "Queue",
            visibility_timeout=Duration.seconds(visibility_timeout_seconds),
            retention_period=Duration.days(4),
            encryption=sqs.QueueEncryption.SQS_MANAGED,
            enforce_ssl=True,
            dead_letter_queue=sqs.DeadLetterQueue(max_receive_count=MAX_RECEIVE_COUNT, queue=self.dlq),
        )
        # Any message in a DLQ means work was lost to the normal path: page on the first one.
        self.dlq_alarm = cloudwatch.Alarm(
            self,
            "DeadLettersAlarm",
            alarm_description=f"ponte {spec.key}: messages in the dead-letter queue",
            metric=self.dlq.metric_approximate_number_of_messages_visible(
                period=Duration.minutes(1), statistic=cloudwatch.Stats.MAXIMUM
            ),
            threshold=1,
            evaluation_periods=1,
            comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
            treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
        )
