"""``ponte migrate``: apply the compat layer (when needed) and the migrations to DATABASE_URL."""

from __future__ import annotations

import argparse
import os

from ponte.adapters.postgres.migrate import migrate


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("migrate", help="apply migrations to DATABASE_URL")
    p.add_argument("--database-url", default=os.environ.get("DATABASE_URL"))
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    if not args.database_url:
        print("DATABASE_URL is not set")
        return 2
    applied = migrate(args.database_url)
    print(f"applied {len(applied)} migration(s)" + "".join(f"\n  {name}" for name in applied))
    return 0
