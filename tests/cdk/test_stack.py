"""The production stack, synthesized in-process and asserted resource by resource."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path
from typing import Any

import pytest

from tests.cdk.conftest import Synth, Synths

pytestmark = pytest.mark.cdk

ROOT = Path(__file__).resolve().parents[2]
QUEUE_KEYS = ("ingest", "bulk", "analyze", "purge", "lifecycle", "media", "campaign")
DATABASE, APP, WORKER, GATEWAY = "database_url", "app", "worker_token", "gateway"


def _both(synths: Synths) -> list[Synth]:
    return [synths.real, synths.sample]


def _ref(s: Synth, token: Any) -> Any:
    return s.stack.resolve(token)


def _queue_arn(s: Synth, key: str) -> Any:
    return _ref(s, s.stack.queues[key].queue.queue_arn)


def _secret_ref(s: Synth, key: str) -> Any:
    return _ref(s, s.stack.secrets.by_key[key].secret_arn)


def _sqs_events(fn: dict[str, Any]) -> list[dict[str, Any]]:
    return [e for e in fn["Properties"].get("Events", {}).values() if e["Type"] == "SQS"]


def _granted(s: Synth, app: str, name: str, action: str) -> list[Any]:
    """Resources on which the function's role allows ``action``."""
    resources: list[Any] = []
    for statement in s.role_statements(app, name):
        actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
        if action in actions:
            resource = statement["Resource"]
            resources.extend(resource if isinstance(resource, list) else [resource])
    return resources


# -- queues ------------------------------------------------------------------------------------


def test_each_work_queue_has_a_dead_letter_queue_after_five_receives(synths: Synths) -> None:
    for s in _both(synths):
        # GIVEN the stack's work queues, WHEN synthesized, THEN each redrives to its own DLQ after 5 receives
        assert len(s.resources("AWS::SQS::Queue")) == 2 * len(QUEUE_KEYS)  # each work queue and its DLQ
        for key in QUEUE_KEYS:
            dlq_arn = _ref(s, s.stack.queues[key].dlq.queue_arn)
            s.template.has_resource_properties(
                "AWS::SQS::Queue", {"RedrivePolicy": {"deadLetterTargetArn": dlq_arn, "maxReceiveCount": 5}}
            )
            s.template.has_resource_properties(
                "AWS::SQS::Queue", {"MessageRetentionPeriod": 14 * 24 * 3600, "SqsManagedSseEnabled": True}
            )


def test_visibility_timeout_is_at_least_six_times_the_consumer_timeout(synths: Synths) -> None:
    for s in _both(synths):
        queues = s.resources("AWS::SQS::Queue")
        consumed = set()
        for fn in s.resources("AWS::Serverless::Function").values():
            for event in _sqs_events(fn):
                queue_id = event["Properties"]["Queue"]["Fn::GetAtt"][0]
                consumed.add(queue_id)
                visibility = queues[queue_id]["Properties"]["VisibilityTimeout"]
                assert visibility >= 6 * fn["Properties"]["Timeout"], (queue_id, visibility)
        # a queue nobody consumes yet still gets 6x the timeout its consumer will have
        for key in QUEUE_KEYS:
            queue_id = _queue_arn(s, key)["Fn::GetAtt"][0]
            assert queues[queue_id]["Properties"]["VisibilityTimeout"] >= 6 * 30
    sample_analyze_visibility = synths.sample.resources("AWS::SQS::Queue")[
        _queue_arn(synths.sample, "analyze")["Fn::GetAtt"][0]
    ]["Properties"]["VisibilityTimeout"]
    assert sample_analyze_visibility == 6 * synths.sample.function("functions", "analyze")["Properties"]["Timeout"] + 2


# -- SQS event sources: what Chalice omits ----------------------------------------------------


def test_every_sqs_event_reports_batch_item_failures_and_names_the_real_queue(synths: Synths) -> None:
    for s in _both(synths):
        queue_arns = [_queue_arn(s, key) for key in QUEUE_KEYS]
        events = [e for fn in s.resources("AWS::Serverless::Function").values() for e in _sqs_events(fn)]
        handlers = [h for app in s.stack.app_handlers.values() for h in app.sqs]
        assert len(events) == len(handlers) >= 1
        for event in events:
            assert event["Properties"]["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
            # GetAtt of a queue in this stack, not Chalice's Fn::Sub built from a name
            assert event["Properties"]["Queue"] in queue_arns
    # the real functions app: its ingest handler reads the ingest queue, as functions/app.py declares
    ingest = synths.real.function("functions", "ingest")
    (event,) = _sqs_events(ingest)
    assert event["Properties"]["Queue"] == _queue_arn(synths.real, "ingest")
    assert event["Properties"]["BatchSize"] == 10
    assert "ScalingConfig" not in event["Properties"]
    # and the bulk lane's consumer is the same ingest, at most two at a time
    (bulk,) = _sqs_events(synths.real.function("functions", "ingest_bulk"))
    assert bulk["Properties"]["Queue"] == _queue_arn(synths.real, "bulk")
    assert bulk["Properties"]["ScalingConfig"] == {"MaximumConcurrency": 2}
    # campaign sends: one job per invocation (a job may wait for its slot), ten at a time at most
    (campaign,) = _sqs_events(synths.real.function("functions", "campaign"))
    assert campaign["Properties"]["Queue"] == _queue_arn(synths.real, "campaign")
    assert campaign["Properties"]["BatchSize"] == 1
    assert campaign["Properties"]["ScalingConfig"] == {"MaximumConcurrency": 10}


def test_the_real_functions_consume_every_queue_and_sweep_the_purge_every_five_minutes(synths: Synths) -> None:
    s = synths.real
    consumed = {
        handler.name: _sqs_events(s.function("functions", handler.name))[0]["Properties"]["Queue"]
        for handler in s.stack.app_handlers["functions"].sqs
    }
    assert sorted(consumed.values(), key=json.dumps) == sorted(
        (_queue_arn(s, key) for key in QUEUE_KEYS), key=json.dumps
    )
    schedules = [
        event["Properties"]["Schedule"]
        for handler in s.stack.app_handlers["functions"].scheduled
        for event in s.function("functions", handler.name)["Properties"]["Events"].values()
        if event["Type"] == "Schedule"
    ]
    assert "rate(5 minutes)" in schedules
    assert "rate(1 minute)" in schedules  # the lifecycle's timers


def test_handlers_added_later_are_wired_from_the_app_object(synths: Synths) -> None:
    from aws_cdk.assertions import Match

    s = synths.sample
    # GIVEN an app with a consumer per queue and two schedules, THEN each is deployed with no stack change
    for name, key, batch in (("ingest", "ingest", 10), ("analyze", "analyze", 5), ("purge", "purge", 1)):
        (event,) = _sqs_events(s.function("functions", name))
        assert event["Properties"]["Queue"] == _queue_arn(s, key)
        assert event["Properties"]["BatchSize"] == batch
    for handler, expression in (("purge_sweep", "rate(5 minutes)"), ("diagnostics_cleanup", "cron(15 3 * * ? *)")):
        s.template.has_resource_properties(
            "AWS::Serverless::Function",
            {
                "Handler": f"app.{handler}",
                "Events": Match.object_like(
                    {
                        next(iter(s.function("functions", handler)["Properties"]["Events"])): {
                            "Type": "Schedule",
                            "Properties": {"Schedule": expression},
                        }
                    }
                ),
            },
        )


def test_a_handler_on_a_queue_the_stack_does_not_define_fails_the_synth(
    synths: Synths, monkeypatch: pytest.MonkeyPatch
) -> None:
    import aws_cdk as cdk
    from chalice.app import Chalice

    from ponte_cdk.discovery import DiscoveryError
    from ponte_cdk.stack import ChaliceProject, PonteStack

    # Not named like the real app: Chalice() resets the level of the logger named after the app.
    app = Chalice(app_name="ponte-functions-bad")

    @app.on_sqs_message(queue="ponte-notifications")
    def notify(event: Any) -> None:
        return None

    project = ChaliceProject(synths.workdir / "lambda" / "sample_functions", app)
    monkeypatch.chdir(synths.workdir)  # were it to get as far as packaging, chalice.out stays out of the repo
    with pytest.raises(DiscoveryError, match="ponte-notifications"):
        PonteStack(cdk.App(outdir=str(synths.workdir / "cdk.out.bad")), "Bad", projects={"functions": project})


# -- secrets, environment -----------------------------------------------------------------------


def test_secrets_exist_and_the_template_holds_none_of_their_values(synths: Synths) -> None:
    s = synths.real
    secrets = s.resources("AWS::SecretsManager::Secret")
    names = sorted(r["Properties"]["Name"] for r in secrets.values())
    assert names == ["ponte/test/app", "ponte/test/database-url", "ponte/test/worker-token"]
    for resource in secrets.values():
        assert "SecretString" not in resource["Properties"]
        assert "GenerateSecretString" in resource["Properties"]  # a random initial value, made by AWS
        assert resource["DeletionPolicy"] == "Retain"
    assert '"SecretString"' not in json.dumps(s.json)
    # the application secret is the JSON the code reads: jwt_secret to put, audit_hash_key generated
    s.template.has_resource_properties(
        "AWS::SecretsManager::Secret",
        {
            "Name": "ponte/test/app",
            "GenerateSecretString": {
                "SecretStringTemplate": json.dumps({"jwt_secret": ""}),
                "GenerateStringKey": "audit_hash_key",
            },
        },
    )


def test_functions_get_secret_names_and_queue_urls_as_env_vars(synths: Synths) -> None:
    s = synths.real
    proxy_env = s.function("proxy", "api_handler")["Properties"]["Environment"]["Variables"]
    assert proxy_env["PONTE_INGEST_QUEUE_URL"] == _ref(s, s.stack.queues["ingest"].queue.queue_url)
    assert proxy_env["PONTE_PURGE_QUEUE_URL"] == _ref(s, s.stack.queues["purge"].queue.queue_url)
    assert proxy_env["PONTE_INGEST_BULK_QUEUE_URL"] == _ref(s, s.stack.queues["bulk"].queue.queue_url)
    assert proxy_env["PONTE_DATABASE_URL_SECRET"] == _secret_ref(s, DATABASE)
    assert proxy_env["PONTE_APP_SECRET_NAME"] == _secret_ref(s, APP)
    assert proxy_env["PONTE_STAGE"] == "test"
    assert proxy_env["POWERTOOLS_SERVICE_NAME"] == "ponte-proxy"
    assert "PONTE_WORKER_TOKEN_SECRET" not in proxy_env
    assert "DATABASE_URL" not in proxy_env

    ingest_env = s.function("functions", "ingest")["Properties"]["Environment"]["Variables"]
    assert ingest_env["PONTE_ANALYZE_QUEUE_URL"] == _ref(s, s.stack.queues["analyze"].queue.queue_url)
    assert ingest_env["PONTE_DATABASE_URL_SECRET"] == _secret_ref(s, DATABASE)
    assert ingest_env["POWERTOOLS_SERVICE_NAME"] == "ponte-functions"
    assert "PONTE_WORKER_TOKEN_SECRET" not in ingest_env

    for synth in _both(synths):
        analyze_env = synth.function("functions", "analyze")["Properties"]["Environment"]["Variables"]
        assert analyze_env["PONTE_WORKER_URL"] == "https://worker.example.test"
        assert analyze_env["PONTE_WORKER_TOKEN_SECRET"] == _secret_ref(synth, WORKER)


# -- least privilege ------------------------------------------------------------------------------


def test_each_function_may_touch_only_its_own_queues_and_secrets(synths: Synths) -> None:
    real, sample = synths.real, synths.sample

    def srt(items: Any) -> list[Any]:
        return sorted(items, key=json.dumps)

    def q(s: Synth, *keys: str) -> list[Any]:
        return srt(_queue_arn(s, k) for k in keys)

    def sec(s: Synth, *keys: str) -> list[Any]:
        # GATEWAY is the name prefix of the per-instance gateway secrets
        return srt(_ref(s, s.stack.secrets.gateway_arn_pattern()) if k == GATEWAY else _secret_ref(s, k) for k in keys)

    expected = [
        # (synth, app, function, consumes, sends to, reads secrets)
        (real, "proxy", "api_handler", (), ("ingest", "bulk", "purge", "lifecycle"), (DATABASE, APP, GATEWAY)),
        (real, "functions", "ingest", ("ingest",), ("analyze", "lifecycle", "media", "campaign"), (DATABASE, APP)),
        (real, "functions", "ingest_bulk", ("bulk",), ("analyze", "lifecycle", "media", "campaign"), (DATABASE, APP)),
        (real, "functions", "media", ("media",), (), (DATABASE, APP, GATEWAY)),
        (real, "functions", "analyze", ("analyze",), ("analyze", "lifecycle"), (DATABASE, APP, WORKER)),
        (real, "functions", "lifecycle", ("lifecycle",), (), (DATABASE, APP, GATEWAY)),
        (real, "functions", "lifecycle_timers", (), (), (DATABASE, APP, GATEWAY)),
        (real, "functions", "campaign", ("campaign",), ("campaign",), (DATABASE, APP, GATEWAY)),
        (real, "functions", "campaign_tick", (), ("campaign",), (DATABASE, APP)),
        (sample, "functions", "analyze", ("analyze",), ("analyze", "lifecycle"), (DATABASE, APP, WORKER)),
        (sample, "functions", "purge", ("purge",), (), (DATABASE, APP)),
        (sample, "functions", "purge_sweep", (), (), (DATABASE, APP)),
        (sample, "functions", "diagnostics_cleanup", (), (), (DATABASE, APP)),
    ]
    for s, app, name, consumes, sends, reads in expected:
        assert srt(_granted(s, app, name, "sqs:ReceiveMessage")) == q(s, *consumes), name
        assert srt(_granted(s, app, name, "sqs:DeleteMessage")) == q(s, *consumes), name
        assert srt(_granted(s, app, name, "sqs:SendMessage")) == q(s, *sends), name
        assert srt(_granted(s, app, name, "secretsmanager:GetSecretValue")) == sec(s, *reads), name


def test_no_role_has_wildcard_resources_beyond_its_logs(synths: Synths) -> None:
    for s in _both(synths):
        roles = s.resources("AWS::IAM::Role")
        assert roles, "one role per function"
        per_instance = json.dumps(_ref(s, s.stack.secrets.gateway_arn_pattern()))
        bucket_objects = json.dumps(_ref(s, s.stack.media_bucket.bucket.arn_for_objects("*")))
        assert per_instance.endswith(':secret:ponte/test/gateway/*"]]}')
        for role_id, role in roles.items():
            for policy in role["Properties"]["Policies"]:
                for statement in policy["PolicyDocument"]["Statement"]:
                    resources = (
                        statement["Resource"] if isinstance(statement["Resource"], list) else [statement["Resource"]]
                    )
                    for resource in resources:
                        # the per-instance gateway secrets and the media bucket's objects are prefixes
                        if "*" not in json.dumps(resource) or json.dumps(resource) in (per_instance, bucket_objects):
                            continue
                        assert all(a.startswith("logs:") for a in statement["Action"]), (role_id, statement)
        # every permission is inline in the function's own role (created before its event source mapping)
        assert not s.resources("AWS::IAM::Policy")
        functions = s.resources("AWS::Serverless::Function")
        assert len({fn["Properties"]["Role"]["Fn::GetAtt"][0] for fn in functions.values()}) == len(functions)


# -- alarms ------------------------------------------------------------------------------------


def test_alarms_on_dead_letters_errors_and_throttles_reach_the_topic(synths: Synths) -> None:
    for s in _both(synths):
        topic = _ref(s, s.stack.alarm_topic.topic_arn)
        for key in QUEUE_KEYS:
            s.template.has_resource_properties(
                "AWS::CloudWatch::Alarm",
                {
                    "MetricName": "ApproximateNumberOfMessagesVisible",
                    "Namespace": "AWS/SQS",
                    "Dimensions": [{"Name": "QueueName", "Value": _ref(s, s.stack.queues[key].dlq.queue_name)}],
                    "Threshold": 1,
                    "AlarmActions": [topic],
                },
            )
        functions = s.resources("AWS::Serverless::Function")
        for logical_id in functions:
            for metric in ("Errors", "Throttles"):
                s.template.has_resource_properties(
                    "AWS::CloudWatch::Alarm",
                    {
                        "MetricName": metric,
                        "Namespace": "AWS/Lambda",
                        "Dimensions": [{"Name": "FunctionName", "Value": {"Ref": logical_id}}],
                        "AlarmActions": [topic],
                    },
                )
        assert len(s.resources("AWS::CloudWatch::Alarm")) == len(QUEUE_KEYS) + 2 * len(functions)
        s.template.has_resource_properties(
            "AWS::SNS::Subscription", {"Protocol": "email", "Endpoint": "ops@example.test"}
        )


def test_cloudformation_validation_finds_nothing_in_the_real_stack(synths: Synths) -> None:
    # Template.from_stack synthesized the app, which ran CDK's CloudFormation validation plugin
    report = json.loads((synths.real.outdir / "validation-report.json").read_text())
    findings = [v for plugin in report["pluginReports"] for v in plugin.get("violations", [])]
    assert findings == []


# -- the API and the deployment packages ------------------------------------------------------------


def test_the_proxy_is_an_api_gateway_api_with_its_url_as_output(synths: Synths) -> None:
    s = synths.real
    assert len(s.resources("AWS::Serverless::Api")) == 1
    assert "EndpointURL" in s.json["Outputs"]
    assert s.function("proxy", "api_handler")["Properties"]["Timeout"] < 29  # inside API Gateway's limit


@pytest.mark.parametrize(
    ("app", "own_module"), [("proxy", "proxy/providers/__init__.py"), ("functions", "functions/bootstrap.py")]
)
def test_deployment_packages_ship_the_shared_code_and_lean_dependencies(
    synths: Synths, app: str, own_module: str
) -> None:
    with zipfile.ZipFile(synths.real.stack.apps[app].deployment_zip) as archive:
        names = set(archive.namelist())
        # the shared package, the app's own package, exactly as in the repository
        for path in ("ponte/constants.py", "ponte/settings.py", f"{app}/app.py", own_module):
            assert archive.read(path) == (ROOT / path).read_bytes(), path
        # the Lambda entry module (handlers app.<name>) re-exports the shipped one
        assert f"import {app}.app as _module" in archive.read("app.py").decode()
        assert "chalice/app.py" in names
    tops = {name.split("/")[0] for name in names}
    # runtime dependencies built for Lambda's platform (manylinux, CPython 3.11)
    assert {"pydantic_core", "psycopg_binary", "aws_lambda_powertools", "httpx", "jwt", "phonenumbers"} <= tops
    assert any(n.startswith("pydantic_core/") and n.endswith("-x86_64-linux-gnu.so") for n in names)
    # nothing Lambda provides or the app does not need at run time
    assert not tops & {"boto3", "botocore", "click", "pip", "setuptools", "yaml", "moto", "pytest", "aws_xray_sdk"}


# -- the media bucket ------------------------------------------------------------------------------


def test_the_media_bucket_is_private_encrypted_tls_only_with_a_lifecycle(synths: Synths) -> None:
    s = synths.real
    (bucket,) = s.resources("AWS::S3::Bucket").values()
    props = bucket["Properties"]
    assert props["PublicAccessBlockConfiguration"] == {
        "BlockPublicAcls": True,
        "BlockPublicPolicy": True,
        "IgnorePublicAcls": True,
        "RestrictPublicBuckets": True,
    }
    assert props["BucketEncryption"]["ServerSideEncryptionConfiguration"] == [
        {"ServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}
    ]
    assert "VersioningConfiguration" not in props  # a purge deletes for good
    rules = {rule["Id"]: rule for rule in props["LifecycleConfiguration"]["Rules"]}
    assert rules["expire-uploads"]["Prefix"] == "uploads/" and rules["expire-uploads"]["ExpirationInDays"] == 2
    assert rules["abort-multipart"]["AbortIncompleteMultipartUpload"] == {"DaysAfterInitiation": 1}
    assert rules["media-infrequent-access"]["Transitions"] == [{"StorageClass": "STANDARD_IA", "TransitionInDays": 90}]
    assert bucket["DeletionPolicy"] == "Retain"
    # TLS only: the bucket policy denies any request without it
    (policy,) = s.resources("AWS::S3::BucketPolicy").values()
    statements = policy["Properties"]["PolicyDocument"]["Statement"]
    assert any(
        st["Effect"] == "Deny" and st["Condition"] == {"Bool": {"aws:SecureTransport": "false"}} for st in statements
    )


def test_only_the_functions_that_need_the_bucket_reach_it_and_by_object_only(synths: Synths) -> None:
    s = synths.real
    objects = _ref(s, s.stack.media_bucket.bucket.arn_for_objects("*"))
    bucket_name = _ref(s, s.stack.media_bucket.bucket.bucket_name)
    expected = {
        ("proxy", "api_handler"): {"s3:GetObject", "s3:PutObject", "s3:DeleteObject"},
        ("functions", "media"): {"s3:PutObject"},
        ("functions", "purge"): {"s3:DeleteObject"},
        ("functions", "media_trash"): {"s3:DeleteObject"},
        ("functions", "scheduled_purge"): {"s3:DeleteObject"},
        ("functions", "ingest"): set(),
        ("functions", "analyze"): set(),
    }
    for (app, name), actions in expected.items():
        granted = {a for a in ("s3:GetObject", "s3:PutObject", "s3:DeleteObject", "s3:ListBucket")
                   if _granted(s, app, name, a)}  # fmt: skip
        assert granted == actions, name
        for action in actions:
            assert _granted(s, app, name, action) == [objects], (name, action)
        env = s.function(app, name)["Properties"]["Environment"]["Variables"]
        assert (env.get("PONTE_MEDIA_BUCKET") == bucket_name) == bool(actions), name
    ingest_env = s.function("functions", "ingest")["Properties"]["Environment"]["Variables"]
    assert ingest_env["PONTE_MEDIA_QUEUE_URL"] == _ref(s, s.stack.queues["media"].queue.queue_url)
    (event,) = _sqs_events(s.function("functions", "media"))
    assert event["Properties"]["BatchSize"] == 1
    assert event["Properties"]["ScalingConfig"] == {"MaximumConcurrency": 5}
