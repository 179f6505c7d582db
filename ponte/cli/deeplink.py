"""``ponte deeplink``: a signed deep-link query for the local demo tenant, alone on the last line."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ponte.localstack.exceptions import LocalStackError
from ponte.localstack.local_auth import local_deeplink, parse_ttl
from ponte.localstack.stack import DEFAULT_STATE_DIR


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "deeplink",
        help="print a signed deep-link query for the local demo tenant",
        description="Signed with the demo tenant's local deep-link key; pass the query to GET /deeplinks/resolve.",
    )
    p.add_argument("--phone", required=True, help="the number, any form (+55 11 98765-4321, a JID...)")
    p.add_argument("--text", default="", help="the reminder text")
    p.add_argument("--ttl", default="7d", help="lifetime: 7d, 8h, 3600 (default 7d)")
    p.add_argument("--state-dir", type=Path, default=DEFAULT_STATE_DIR, help="the state dir of `ponte up`")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    try:
        query = local_deeplink(args.state_dir, phone=args.phone, text=args.text, ttl_seconds=parse_ttl(args.ttl))
    except LocalStackError as exc:
        print(f"ponte deeplink: {exc}", file=sys.stderr)
        return 2
    print("# GET /deeplinks/resolve?<query> as a member of the demo tenant:")
    print(query)
    return 0
