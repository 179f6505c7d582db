"""``ponte quarantine list|replay``: payloads that failed normalization or ingest, and the ingest
queues' dead letters; their replay after a fix.

``list`` prints one JSON line per quarantined payload (``"source": "quarantine"``) and per dead
letter of the ingest and bulk queues (``"source": "dead_letter"``), never their message text.
``replay`` normalizes quarantined payloads again (or re-enqueues events that failed at ingest)
and sends dead letters back to the queue they died on.

Reads DATABASE_URL, PONTE_INGEST_QUEUE_URL and PONTE_INGEST_BULK_QUEUE_URL (or the flags).
"""

from __future__ import annotations

import argparse
import json
import os
from dataclasses import asdict
from typing import TYPE_CHECKING

from ponte import constants as c
from ponte.settings import Settings

if TYPE_CHECKING:
    from ponte.adapters.sqs_dead_letters import SqsDeadLetters


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("quarantine", help="list or replay quarantined payloads and ingest dead letters")
    p.add_argument("action", choices=("list", "replay"))
    p.add_argument("--tenant", help="only this tenant's quarantined entries (dead letters are not filtered)")
    p.add_argument("--limit", type=int, default=100)
    p.add_argument("--database-url", default=os.environ.get(c.DATABASE_URL_ENV))
    p.add_argument("--queue-url", default=os.environ.get(c.INGEST_QUEUE_URL_ENV))
    p.add_argument("--bulk-queue-url", default=os.environ.get(c.INGEST_BULK_QUEUE_URL_ENV))
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from proxy.bootstrap import bootstrap  # the proxy's composition root: same wiring as the webhook

    if not args.database_url or (args.action == "replay" and not args.queue_url):
        print(json.dumps({"error": "DATABASE_URL (and PONTE_INGEST_QUEUE_URL to replay) must be set"}))
        return 2
    settings = Settings.from_env(
        database_url=args.database_url,
        ingest_queue_url=args.queue_url or "unused",
        ingest_bulk_queue_url=args.bulk_queue_url,
    )
    container = bootstrap(settings)
    try:
        if args.action == "list":
            from ponte.adapters.postgres.quarantine import PgQuarantineStore

            for entry in PgQuarantineStore(container.db).pending(tenant_id=args.tenant, limit=args.limit):
                line = entry.model_dump(mode="json", exclude={"raw_payload"}) | {"bytes": len(entry.raw_payload)}
                print(json.dumps({"source": "quarantine", **line}))
            for letters in _dead_letters(args):
                for letter in letters.peek(args.limit):
                    print(json.dumps({"source": "dead_letter", **asdict(letter)}))
            return 0
        results = container.quarantine_replay.replay(tenant_id=args.tenant, limit=args.limit)
        for result in results:
            print(json.dumps({"id": result.entry_id, "outcome": result.outcome, "reason": result.reason}))
        redriven = 0
        for letters in _dead_letters(args):
            for letter in letters.redrive(args.limit):
                redriven += 1
                print(json.dumps({"message_id": letter.message_id, "outcome": "redriven", "queue": letter.queue}))
        print(json.dumps({"replayed": len(results), "redriven": redriven}))
        return 0
    finally:
        container.db.close()


def _dead_letters(args: argparse.Namespace) -> list[SqsDeadLetters]:
    import boto3

    from ponte.adapters.sqs_dead_letters import SqsDeadLetters

    urls = [u for u in (args.queue_url, args.bulk_queue_url) if u]
    client = boto3.client("sqs") if urls else None
    return [SqsDeadLetters(client, url) for url in urls]
