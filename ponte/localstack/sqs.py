"""A local SQS endpoint: moto's server in a child process, with Ponte's queues and DLQs."""

from __future__ import annotations

import contextlib
import json
import subprocess
import sys
import time
from dataclasses import dataclass, field
from typing import Any

import boto3
import httpx

from ponte import constants as c
from ponte.localstack.exceptions import LocalStackError
from ponte.localstack.pgcluster import free_port
from ponte.localstack.process import ChildProcess

LOCAL_REGION = "us-east-1"
LOCAL_CREDENTIALS = {"aws_access_key_id": "local", "aws_secret_access_key": "local"}
QUEUES = (
    c.DEFAULT_INGEST_QUEUE,
    c.DEFAULT_INGEST_BULK_QUEUE,
    c.DEFAULT_ANALYZE_QUEUE,
    c.DEFAULT_PURGE_QUEUE,
    c.DEFAULT_LIFECYCLE_QUEUE,
    c.DEFAULT_MEDIA_QUEUE,
    c.DEFAULT_CAMPAIGN_QUEUE,
)
MEDIA_BUCKET = "ponte-local-media"
MAX_RECEIVE_COUNT = 5
# A campaign job takes at most a couple of seconds locally: what a dead poller held comes back soon.
VISIBILITY_SECONDS = {c.DEFAULT_CAMPAIGN_QUEUE: 10}


def sqs_client(endpoint_url: str) -> Any:
    return boto3.client(
        "sqs",
        endpoint_url=endpoint_url,
        region_name=LOCAL_REGION,
        aws_access_key_id=LOCAL_CREDENTIALS["aws_access_key_id"],
        aws_secret_access_key=LOCAL_CREDENTIALS["aws_secret_access_key"],
    )


def s3_client(endpoint_url: str) -> Any:
    from botocore.config import Config

    return boto3.client(
        "s3",
        endpoint_url=endpoint_url,
        region_name=LOCAL_REGION,
        aws_access_key_id=LOCAL_CREDENTIALS["aws_access_key_id"],
        aws_secret_access_key=LOCAL_CREDENTIALS["aws_secret_access_key"],
        config=Config(s3={"addressing_style": "path"}, signature_version="s3v4"),
    )


def create_bucket(client: Any, name: str = MEDIA_BUCKET) -> str:
    """The media bucket, private, as the CDK stack makes it (moto keeps it in memory)."""
    with contextlib.suppress(client.exceptions.BucketAlreadyOwnedByYou):
        client.create_bucket(Bucket=name)
    client.put_public_access_block(
        Bucket=name,
        PublicAccessBlockConfiguration={"BlockPublicAcls": True, "IgnorePublicAcls": True,
                                        "BlockPublicPolicy": True, "RestrictPublicBuckets": True},
    )  # fmt: skip
    return name


def secretsmanager_client(endpoint_url: str) -> Any:
    return boto3.client(
        "secretsmanager",
        endpoint_url=endpoint_url,
        region_name=LOCAL_REGION,
        aws_access_key_id=LOCAL_CREDENTIALS["aws_access_key_id"],
        aws_secret_access_key=LOCAL_CREDENTIALS["aws_secret_access_key"],
    )


def create_queues(
    client: Any,
    names: tuple[str, ...] = QUEUES,
    *,
    visibility_timeout: int = 30,
    max_receive_count: int = MAX_RECEIVE_COUNT,
) -> dict[str, str]:
    """Each queue with its dead-letter queue; returns name -> url."""
    urls = {}
    for name in names:
        dlq_url = client.create_queue(QueueName=f"{name}-dlq")["QueueUrl"]
        dlq_arn = client.get_queue_attributes(QueueUrl=dlq_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        urls[name] = client.create_queue(
            QueueName=name,
            Attributes={
                "VisibilityTimeout": str(VISIBILITY_SECONDS.get(name, visibility_timeout)),
                "RedrivePolicy": json.dumps(
                    {"deadLetterTargetArn": dlq_arn, "maxReceiveCount": str(max_receive_count)}
                ),
            },
        )["QueueUrl"]
        urls[f"{name}-dlq"] = dlq_url
    return urls


@dataclass
class MotoServer(ChildProcess):
    port: int = 0
    _proc: subprocess.Popen[bytes] | None = field(default=None, init=False, repr=False)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 30.0) -> MotoServer:
        self.port = self.port or free_port()
        self._proc = subprocess.Popen(
            [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(self.port)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            # its own session, as PostgreSQL and the worker: Ctrl-C reaches `ponte up` alone, which
            # stops the pollers before moto (it used to die first, and every poller logged the outage)
            start_new_session=True,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._proc.poll() is not None:
                raise LocalStackError(f"moto server exited with {self._proc.returncode}")
            try:
                httpx.get(f"{self.url}/moto-api/", timeout=0.5)
                return self
            except httpx.HTTPError:
                time.sleep(0.1)
        raise LocalStackError("moto server did not start")

    def stop(self) -> None:
        proc, self._proc = self._proc, None
        if proc is not None and proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
