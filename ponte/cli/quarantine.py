"""``ponte quarantine list|replay``: payloads that failed normalization, and their replay after a fix.

Reads DATABASE_URL and PONTE_INGEST_QUEUE_URL (or ``--database-url`` / ``--queue-url``).
"""

from __future__ import annotations

import argparse
import json
import os

from ponte import constants as c
from ponte.settings import Settings


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("quarantine", help="list or replay quarantined webhook payloads")
    p.add_argument("action", choices=("list", "replay"))
    p.add_argument("--tenant", help="only this tenant's entries")
    p.add_argument("--limit", type=int, default=100)
    p.add_argument("--database-url", default=os.environ.get(c.DATABASE_URL_ENV))
    p.add_argument("--queue-url", default=os.environ.get(c.INGEST_QUEUE_URL_ENV))
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from proxy.bootstrap import bootstrap  # the proxy's composition root: same wiring as the webhook

    if not args.database_url or (args.action == "replay" and not args.queue_url):
        print(json.dumps({"error": "DATABASE_URL (and PONTE_INGEST_QUEUE_URL to replay) must be set"}))
        return 2
    settings = Settings.from_env(database_url=args.database_url, ingest_queue_url=args.queue_url or "unused")
    container = bootstrap(settings)
    try:
        if args.action == "list":
            from ponte.adapters.postgres.quarantine import PgQuarantineStore

            for entry in PgQuarantineStore(container.db).pending(tenant_id=args.tenant, limit=args.limit):
                print(
                    json.dumps(
                        entry.model_dump(mode="json", exclude={"raw_payload"}) | {"bytes": len(entry.raw_payload)}
                    )
                )
            return 0
        results = container.quarantine_replay.replay(tenant_id=args.tenant, limit=args.limit)
        for result in results:
            print(json.dumps({"id": result.entry_id, "outcome": result.outcome, "reason": result.reason}))
        print(json.dumps({"replayed": len(results)}))
        return 0
    finally:
        container.db.close()
