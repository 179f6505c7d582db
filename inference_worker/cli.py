"""``ponte-worker``: the inference worker as a long-running service.

The bearer token comes from ``PONTE_WORKER_TOKEN`` (never a flag: flags show in ``ps``).
Other settings: flags, else ``PONTE_WORKER_*`` variables (see ``constants.py``).
"""

from __future__ import annotations

import argparse
import logging
import sys

import uvicorn
from pydantic import ValidationError

from inference_worker.app import create_app
from inference_worker.settings import WorkerSettings


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="ponte-worker", description="Ponte inference worker (llama.cpp, CPU only)")
    p.add_argument("--host")
    p.add_argument("--port", type=int)
    p.add_argument("--model", dest="model_path", help="GGUF path (default: the packaged SmolLM2-135M)")
    p.add_argument("--reply-mode", choices=["auto", "llm", "template"])
    p.add_argument("--processes", type=int, help="worker processes, one thread each (default: cores - 1)")
    p.add_argument("--queue-size", type=int, help="requests allowed to wait before 429")
    return p


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    try:
        settings = WorkerSettings.from_env(**vars(args))
    except ValidationError as exc:
        print(f"ponte-worker: invalid settings (is PONTE_WORKER_TOKEN set, 16+ chars?):\n{exc}", file=sys.stderr)
        return 2
    uvicorn.run(create_app(settings), host=settings.host, port=settings.port, log_level="info", access_log=False)
    return 0


if __name__ == "__main__":
    sys.exit(main())
