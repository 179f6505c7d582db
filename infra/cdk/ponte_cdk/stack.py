"""Ponte's production stack: the proxy API and the queue functions (Chalice), their queues,
secrets, alarms and least-privilege permissions."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from aws_cdk import CfnOutput, Duration, Stack
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as cw_actions
from aws_cdk import aws_iam as iam
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sns_subscriptions as subscriptions
from chalice.app import Chalice
from constructs import Construct

from ponte import constants as c
from ponte_cdk.chalice_app import API_HANDLER, ChaliceApp
from ponte_cdk.discovery import AppHandlers, DiscoveryError, handlers_of, load_app
from ponte_cdk.lambda_bundle import BASE_POLICY_FILE, DEFAULT_BUILD_DIR, stage_all
from ponte_cdk.media_bucket import MediaBucket
from ponte_cdk.secrets import PonteSecrets
from ponte_cdk.wiring import (
    GATEWAY,
    NEEDS_BY_HANDLER,
    NEEDS_BY_QUEUE,
    PROXY_NEEDS,
    QUEUES,
    SCHEDULED_NEEDS,
    VISIBILITY_FACTOR,
    WORKER_TOKEN,
    Needs,
    StackSettings,
)
from ponte_cdk.work_queues import WorkQueue

# The Chalice projects deployed, by directory, with the module that defines their app.
APPS = {"proxy": "proxy.app", "functions": "functions.app"}


@dataclass(frozen=True)
class ChaliceProject:
    source_dir: Path  # a staged Chalice project (see lambda_bundle)
    app: Chalice  # the same app, imported, to discover its handlers


def default_projects(build_dir: Path = DEFAULT_BUILD_DIR) -> dict[str, ChaliceProject]:
    """Stage ``proxy/`` and ``functions/`` with the shared code (at synth time: never stale)."""
    staged = stage_all(build_dir)
    return {name: ChaliceProject(staged[name].path, load_app(module)) for name, module in APPS.items()}


# The same actions CDK's grant_consume_messages / grant_send_messages / grant_read use.
CONSUME_ACTIONS = [
    "sqs:ReceiveMessage",
    "sqs:ChangeMessageVisibility",
    "sqs:GetQueueUrl",
    "sqs:DeleteMessage",
    "sqs:GetQueueAttributes",
]
SEND_ACTIONS = ["sqs:SendMessage", "sqs:GetQueueAttributes", "sqs:GetQueueUrl"]
SECRET_READ_ACTIONS = ["secretsmanager:GetSecretValue", "secretsmanager:DescribeSecret"]
# Object actions only (no listing, no bucket configuration); a signed URL acts with its signer's rights.
BUCKET_ACTIONS = {"read": ["s3:GetObject"], "write": ["s3:PutObject"], "delete": ["s3:DeleteObject"]}


def needs_of(handlers: AppHandlers, queue_keys: dict[str, str]) -> dict[str, Needs]:
    """Every function of an app -> what it needs. Fails on a queue the stack does not define."""
    needs: dict[str, Needs] = {}
    if handlers.has_api:
        needs[API_HANDLER] = PROXY_NEEDS
    for sqs_handler in handlers.sqs:
        key = queue_keys.get(sqs_handler.queue)
        if key is None:
            raise DiscoveryError(
                f"{handlers.app_name}.{sqs_handler.name} consumes queue {sqs_handler.queue!r}, "
                f"which the stack does not define (it defines {sorted(queue_keys)})"
            )
        needs[sqs_handler.name] = NEEDS_BY_QUEUE.get(key, Needs())
    for scheduled in handlers.scheduled:
        needs[scheduled.name] = SCHEDULED_NEEDS
    for plain in handlers.plain:
        needs[plain] = Needs()
    return {
        name: need.merged(NEEDS_BY_HANDLER[name]) if name in NEEDS_BY_HANDLER else need for name, need in needs.items()
    }


class PonteStack(Stack):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        settings: StackSettings | None = None,
        projects: Mapping[str, ChaliceProject] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(scope, construct_id, **kwargs)
        self.settings = settings or StackSettings()
        projects = projects if projects is not None else default_projects()
        self.app_handlers = {name: handlers_of(project.app) for name, project in projects.items()}
        queue_keys = {spec.chalice_name: spec.key for spec in QUEUES}
        # Before any packaging: a handler on an unknown queue fails the synth here, loudly.
        self.needs = {name: needs_of(h, queue_keys) for name, h in self.app_handlers.items()}

        self.alarm_topic = sns.Topic(self, "AlarmTopic", display_name="Ponte alarms")
        if self.settings.alarm_email:
            self.alarm_topic.add_subscription(subscriptions.EmailSubscription(self.settings.alarm_email))
        self.secrets = PonteSecrets(self, "Secrets", name_prefix=f"ponte/{self.settings.stage}")
        self.queues = {spec.key: self._work_queue(spec.key) for spec in QUEUES}
        self.media_bucket = MediaBucket(self, "Media", cors_origins=self.settings.web_origins)

        self.apps: dict[str, ChaliceApp] = {}
        for name, project in projects.items():
            self.apps[name] = ChaliceApp(
                self,
                name.capitalize(),
                source_dir=project.source_dir,
                handlers=self.app_handlers[name],
                stage_config=self._stage_config(name),
            )
            self._wire(self.apps[name], self.needs[name])

        # Chalice's own outputs (EndpointURL, RestAPIId, function names) are kept as they are.
        for key, queue in self.queues.items():
            CfnOutput(self, f"{key.capitalize()}QueueUrl", value=queue.queue.queue_url)
        for key, secret in self.secrets.by_key.items():
            CfnOutput(self, f"{secret.node.id}SecretName", value=self.secrets.names[key], description=key)
        CfnOutput(self, "MediaBucketName", value=self.media_bucket.bucket.bucket_name)

    # -- queues -------------------------------------------------------------------------------

    def _work_queue(self, key: str) -> WorkQueue:
        spec = next(spec for spec in QUEUES if spec.key == key)
        consumers = [
            (need.timeout_seconds, handler.batching_window_seconds)
            for app, handlers in self.app_handlers.items()
            for handler in handlers.sqs
            if handler.queue == spec.chalice_name
            for need in [self.needs[app][handler.name]]
        ] or [(NEEDS_BY_QUEUE.get(key, Needs()).timeout_seconds, 0)]
        visibility = max(VISIBILITY_FACTOR * timeout + window for timeout, window in consumers)
        work_queue = WorkQueue(self, f"{key.capitalize()}Queue", spec=spec, visibility_timeout_seconds=visibility)
        work_queue.dlq_alarm.add_alarm_action(cw_actions.SnsAction(self.alarm_topic))
        return work_queue

    # -- Chalice configuration ----------------------------------------------------------------

    def _stage_config(self, app: str) -> dict[str, Any]:
        """What Chalice reads while packaging. Per-function settings are overrides (see _configure):
        Chalice takes those from its config file only, not from the construct's stage_config."""
        config: dict[str, Any] = {
            # One role per function, holding only the Logs policy file plus what _wire grants.
            "autogen_policy": False,
            "iam_policy_file": BASE_POLICY_FILE,
            "environment_variables": {
                "POWERTOOLS_SERVICE_NAME": f"ponte-{app}",
                c.STAGE_ENV: self.settings.stage,
                **self.settings.extra_env,
            },
        }
        if self.app_handlers[app].has_api:
            config["api_gateway_stage"] = "api"
            config["api_gateway_endpoint_type"] = "REGIONAL"
        return config

    def function_env(self, need: Needs) -> dict[str, str]:
        """The env vars one function gets: ids of the secrets it may read, URLs of the queues it sends to."""
        env: dict[str, str] = {}
        for key in sorted(need.secrets & self.secrets.by_key.keys()):
            env[self.secrets.specs[key].name_env] = self.secrets.by_key[key].secret_arn
        for key in sorted(need.sends_to):
            env[next(spec.url_env for spec in QUEUES if spec.key == key)] = self.queues[key].queue.queue_url
        if WORKER_TOKEN in need.secrets and self.settings.worker_url:
            env[c.WORKER_URL_ENV] = self.settings.worker_url
        if need.bucket:
            env[c.MEDIA_BUCKET_ENV] = self.media_bucket.bucket.bucket_name
        return env

    # -- wiring after packaging -----------------------------------------------------------------

    def _wire(self, app: ChaliceApp, needs: dict[str, Needs]) -> None:
        specs = {spec.chalice_name: spec for spec in QUEUES}
        for handler in app.handlers.sqs:
            spec = specs[handler.queue]
            queue = self.queues[spec.key].queue
            event_id = app.sqs_event_id(handler.name, handler.queue)
            app.override(handler.name, f"Events.{event_id}.Properties.Queue", queue.queue_arn)
            if spec.max_concurrency is not None:
                app.override(
                    handler.name, f"Events.{event_id}.Properties.ScalingConfig.MaximumConcurrency", spec.max_concurrency
                )
            app.override(
                handler.name, f"Events.{event_id}.Properties.FunctionResponseTypes", ["ReportBatchItemFailures"]
            )
            app.add_to_role(handler.name, iam.PolicyStatement(actions=CONSUME_ACTIONS, resources=[queue.queue_arn]))
        for name, need in needs.items():
            app.override(name, "Timeout", need.timeout_seconds)
            app.override(name, "MemorySize", need.memory_mb)
            env = self.function_env(need)
            if name == API_HANDLER and self.settings.jwks_url:
                env[c.JWKS_URL_ENV] = self.settings.jwks_url  # Supabase's asymmetric signing keys
            for env_name, value in env.items():
                app.override(name, f"Environment.Variables.{env_name}", value)
            for key in sorted(need.sends_to):
                app.add_to_role(
                    name, iam.PolicyStatement(actions=SEND_ACTIONS, resources=[self.queues[key].queue.queue_arn])
                )
            secret_arns = [
                self.secrets.by_key[key].secret_arn for key in sorted(need.secrets & self.secrets.by_key.keys())
            ]
            if GATEWAY in need.secrets:
                secret_arns.append(self.secrets.gateway_arn_pattern())
            if secret_arns:
                app.add_to_role(name, iam.PolicyStatement(actions=SECRET_READ_ACTIONS, resources=secret_arns))
            bucket_actions = [a for access in sorted(need.bucket) for a in BUCKET_ACTIONS[access]]
            if bucket_actions:
                app.add_to_role(
                    name,
                    iam.PolicyStatement(
                        actions=bucket_actions, resources=[self.media_bucket.bucket.arn_for_objects("*")]
                    ),
                )
            self._function_alarms(app, name)

    def _function_alarms(self, app: ChaliceApp, name: str) -> None:
        fn = app.function(name)
        function_name = app.construct.get_resource(fn.logical_id).ref
        for metric_name in ("Errors", "Throttles"):
            alarm = cloudwatch.Alarm(
                self,
                f"{fn.logical_id}{metric_name}Alarm",
                alarm_description=f"ponte {app.handlers.app_name}.{name}: {metric_name.lower()}",
                metric=cloudwatch.Metric(
                    namespace="AWS/Lambda",
                    metric_name=metric_name,
                    dimensions_map={"FunctionName": function_name},
                    statistic=cloudwatch.Stats.SUM,
                    period=Duration.minutes(5),
                ),
                threshold=1,
                evaluation_periods=1,
                comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
                treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
            )
            alarm.add_alarm_action(cw_actions.SnsAction(self.alarm_topic))
