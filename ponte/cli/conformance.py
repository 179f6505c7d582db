"""``ponte conformance DIR``: normalize every payload file, one JSON line each, then totals.

Exit status 0 when no file crashed the normalizer (rejections are normal outcomes), 1 otherwise.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from proxy.providers import NORMALIZERS
from proxy.providers.conformance import payload_files, run


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("conformance", help="run the normalizers over a folder of gateway payload files")
    p.add_argument("path", type=Path, help="a payload file or a folder (provider = nearest parent folder name)")
    p.add_argument("--provider", choices=sorted(NORMALIZERS), help="for files outside a provider folder")
    p.set_defaults(func=main)


def main(args: argparse.Namespace) -> int:
    if not args.path.exists():
        print(json.dumps({"error": f"no such file or folder: {args.path}"}))
        return 2
    errors = 0
    for line in run(payload_files(args.path), args.provider):
        errors += line.get("outcome") == "error"
        sys.stdout.write(json.dumps(line, ensure_ascii=False) + "\n")
    return 1 if errors else 0
