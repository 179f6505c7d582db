"""``ponte replay PATH``: POST gateway payload files to the proxy."""

from __future__ import annotations

import argparse
import json
from dataclasses import dataclass
from pathlib import Path

import httpx

from ponte.localstack.stack import DEFAULT_STATE_DIR
from ponte.services.intake import SECRET_HEADER

PROVIDERS = ("evolution", "wppconnect")


@dataclass(frozen=True)
class ReplayTarget:
    proxy_url: str
    instances: dict[str, tuple[str, str]]  # provider -> (instance id, webhook secret)


def payload_files(path: Path) -> list[Path]:
    return sorted(path.rglob("*.json")) if path.is_dir() else [path]


def provider_of(path: Path, default: str | None) -> str:
    for part in reversed(path.parts[:-1]):
        if part in PROVIDERS:
            return part
    if default:
        return default
    raise ValueError(f"cannot tell the provider of {path}; pass --provider")


def replay(paths: list[Path], target: ReplayTarget, default_provider: str | None = None) -> list[dict[str, object]]:
    results = []
    with httpx.Client(timeout=30) as client:
        for file in paths:
            provider = provider_of(file, default_provider)
            instance_id, secret = target.instances[provider]
            response = client.post(
                f"{target.proxy_url}/webhooks/{provider}/{instance_id}",
                content=file.read_bytes(),
                headers={"Content-Type": "application/json", SECRET_HEADER: secret},
            )
            try:
                body = response.json()
            except ValueError:
                body = {"raw": response.text[:200]}
            results.append({"file": str(file), "status": response.status_code, **body})
    return results


def target_from_state(state_dir: Path) -> ReplayTarget:
    state = json.loads((state_dir / "stack.json").read_text())
    secrets = json.loads((state_dir / "local-secrets.json").read_text())
    demo = state["demo"]
    return ReplayTarget(
        proxy_url=state["proxy_url"],
        instances={demo["provider"]: (demo["instance_id"], secrets["demo_webhook_secret"])},
    )


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("replay", help="POST gateway payload files (or a folder of them) to the proxy")
    p.add_argument("path", type=Path)
    p.add_argument("--state-dir", type=Path, default=DEFAULT_STATE_DIR, help="where `ponte up` wrote stack.json")
    p.add_argument("--provider", choices=PROVIDERS)
    p.add_argument("--url", help="proxy base URL (default: the running local stack)")
    p.add_argument("--instance", help="instance id (default: the demo instance)")
    p.add_argument("--secret", help="webhook secret (default: the demo instance's)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    if args.url and args.instance and args.secret:
        provider = args.provider or "evolution"
        target = ReplayTarget(args.url, dict.fromkeys((provider, *PROVIDERS), (args.instance, args.secret)))
    else:
        target = target_from_state(args.state_dir)
    results = replay(payload_files(args.path), target, args.provider)
    for row in results:
        print(json.dumps(row, ensure_ascii=False))
    failed = sum(1 for r in results if not 200 <= int(str(r["status"])) < 300)
    print(f"replayed {len(results)} file(s), {failed} not accepted")
    return 0
