"""The media bucket: received files and the uploads agents send. Private (every public access
blocked, TLS only, encrypted at rest), read through short-lived signed URLs only, with a lifecycle:
uploads go after two days, half-done multipart uploads after one, files move to infrequent access
after 90 days."""

from __future__ import annotations

from aws_cdk import Duration, RemovalPolicy
from aws_cdk import aws_s3 as s3
from constructs import Construct

UPLOAD_DAYS = 2
INFREQUENT_AFTER_DAYS = 90


class MediaBucket(Construct):
    def __init__(self, scope: Construct, construct_id: str, *, cors_origins: tuple[str, ...] = ()) -> None:
        super().__init__(scope, construct_id)
        cors = (
            [
                s3.CorsRule(
                    allowed_methods=[s3.HttpMethods.POST, s3.HttpMethods.GET],
                    allowed_origins=list(cors_origins),
                    allowed_headers=["*"],
                    max_age=600,
                )
            ]
            if cors_origins
            else None
        )
        self.bucket = s3.Bucket(
            self,
            "Bucket",
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            encryption=s3.BucketEncryption.S3_MANAGED,
            enforce_ssl=True,
            object_ownership=s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
            versioned=False,  # a purge deletes for good: no old versions of a hidden contact's files
            removal_policy=RemovalPolicy.RETAIN,
            cors=cors,
            lifecycle_rules=[
                s3.LifecycleRule(id="abort-multipart", abort_incomplete_multipart_upload_after=Duration.days(1)),
                s3.LifecycleRule(id="expire-uploads", prefix="uploads/", expiration=Duration.days(UPLOAD_DAYS)),
                s3.LifecycleRule(
                    id="media-infrequent-access",
                    prefix="media/",
                    transitions=[
                        s3.Transition(
                            storage_class=s3.StorageClass.INFREQUENT_ACCESS,
                            transition_after=Duration.days(INFREQUENT_AFTER_DAYS),
                        )
                    ],
                ),
            ],
        )
