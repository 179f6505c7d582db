"""``ponte``: the one console script, for people and for checks."""

from __future__ import annotations

import argparse
import importlib
import sys

# Each subcommand is a module of this package with ``register(subparsers)``.
COMMANDS = (
    "up",
    "replay",
    "migrate",
    "conformance",
    "quarantine",
    "bench",
    "purge",
    "contract",
    "eval",
    "fuzz",
    "token",
    "deeplink",
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="ponte", description="Ponte: WhatsApp CRM backend")
    sub = parser.add_subparsers(dest="command", required=True)
    for name in COMMANDS:
        importlib.import_module(f"ponte.cli.{name}").register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    result: int = args.func(args)
    return result


if __name__ == "__main__":
    sys.exit(main())
