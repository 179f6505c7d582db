"""``ponte token``: a local access token (JWT) for a member of a local tenant, alone on the last line."""

from __future__ import annotations

import argparse
import sys
from datetime import UTC, datetime
from pathlib import Path

from ponte.localstack.exceptions import LocalStackError
from ponte.localstack.local_auth import ROLES, local_token, parse_ttl
from ponte.localstack.stack import DEFAULT_STATE_DIR


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "token",
        help="mint a local stack JWT (the demo owner's by default); the token is the last line",
        description="Signed with the local stack's secret (from --state-dir): it works on the local stack only.",
    )
    p.add_argument("--state-dir", type=Path, default=DEFAULT_STATE_DIR, help="the state dir of `ponte up`")
    who = p.add_mutually_exclusive_group()
    who.add_argument("--user", metavar="EMAIL", help="a member of the tenant, by email")
    who.add_argument("--role", choices=ROLES, help="the tenant's first member with this role")
    p.add_argument("--tenant", metavar="ID", help="the tenant (default: the demo tenant)")
    p.add_argument("--ttl", default="8h", help="lifetime: 8h, 30m, 2d, 3600 (default 8h)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    try:
        minted = local_token(
            args.state_dir, email=args.user, role=args.role, tenant_id=args.tenant, ttl_seconds=parse_ttl(args.ttl)
        )
    except LocalStackError as exc:
        print(f"ponte token: {exc}", file=sys.stderr)
        return 2
    expires = datetime.fromtimestamp(minted.expires_at, UTC).strftime("%Y-%m-%d %H:%M:%SZ")
    print(f"# {minted.email} ({minted.role}) of tenant {minted.tenant_id}, expires {expires}")
    print(minted.token)
    return 0
