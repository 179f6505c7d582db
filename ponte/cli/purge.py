"""``ponte purge``: sweep hidden contacts now (what the schedule does every few minutes), or
``--enqueue`` a purge request on the purge queue for the functions to run."""

from __future__ import annotations

import argparse
import json

from ponte.adapters.postgres.db import Database
from ponte.adapters.secrets import secret_store
from ponte.domain.hidden import PurgeRequest
from ponte.settings import Settings
from ponte.wiring import privacy_service


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("purge", help="purge what is stored about hidden contacts (all tenants or one)")
    p.add_argument("--tenant", help="one tenant id (default: every tenant)")
    p.add_argument("--enqueue", action="store_true", help="send a request to the purge queue instead")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    settings = Settings.from_env()
    if args.enqueue:
        import boto3

        if not settings.purge_queue_url:
            print("PONTE_PURGE_QUEUE_URL is not set")
            return 2
        body = PurgeRequest(tenant_id=args.tenant, reason="cli").model_dump_json()
        boto3.client("sqs").send_message(QueueUrl=settings.purge_queue_url, MessageBody=body)
        print("purge request enqueued")
        return 0
    if not settings.database_url:
        print("DATABASE_URL is not set")
        return 2
    db = Database(settings.database_url, max_size=2)
    try:
        service = privacy_service(db, settings, secret_store(settings))
        if service is None:
            print("no audit hash key: set PONTE_APP_SECRET_NAME (secret store) or PONTE_AUDIT_HASH_KEY")
            return 2
        result = service.sweep(args.tenant, actor="cli")
    finally:
        db.close()
    print(json.dumps({"subjects": result.subjects, "deleted": result.deleted.counts, "total": result.deleted.total}))
    return 0
