"""``ponte contract``: regenerate ``frontend_contract/``; ``--check`` fails when it drifted."""

from __future__ import annotations

import argparse

from ponte.contract.generate import CONTRACT_DIR, drift, write


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("contract", help="generate the frontend contract (schemas, OpenAPI, types, catalogue)")
    p.add_argument("--check", action="store_true", help="regenerate in memory and fail if the files differ")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    if args.check:
        problems = drift()
        if problems:
            print(f"{CONTRACT_DIR.name}/ is out of date with the code; run `ponte contract` and commit:")
            for line in problems:
                print(f"  {line}")
            return 1
        print(f"{CONTRACT_DIR.name}/ is up to date")
        return 0
    written = write()
    print(f"wrote {len(written)} file(s) to {CONTRACT_DIR}")
    return 0
