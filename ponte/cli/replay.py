"""``ponte replay PATH``: POST gateway payload files to the proxy, as their gateway would: Evolution
and WPPConnect bodies with the instance's webhook secret, Cloud API bodies signed with the Meta
app's secret (``X-Hub-Signature-256``). A file whose provider has no instance in the target is
reported as skipped, with the reason."""

from __future__ import annotations

import argparse
import json
from dataclasses import dataclass
from pathlib import Path

import httpx

from ponte.localstack.stack import DEFAULT_STATE_DIR
from ponte.services.intake import SECRET_HEADER
from ponte.services.webhook_signatures import body_signature

PROVIDERS = ("evolution", "wppconnect", "cloud")


@dataclass(frozen=True)
class ReplayTarget:
    proxy_url: str
    # provider -> (instance id, its webhook secret; for the Cloud API the Meta app's secret)
    instances: dict[str, tuple[str, str]]


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
    results: list[dict[str, object]] = []
    with httpx.Client(timeout=30) as client:
        for file in paths:
            provider = provider_of(file, default_provider)
            if provider not in target.instances:
                reason = f"no {provider} instance in the target: pass --url, --instance and --secret"
                results.append({"file": str(file), "status": None, "outcome": "skipped", "reason": reason})
                continue
            instance_id, secret = target.instances[provider]
            body = file.read_bytes()
            signed = provider == "cloud"  # Meta signs the body; the other gateways send the secret
            auth = {"X-Hub-Signature-256": body_signature(secret, body)} if signed else {SECRET_HEADER: secret}
            response = client.post(
                f"{target.proxy_url}/webhooks/{provider}/{instance_id}",
                content=body,
                headers={"Content-Type": "application/json", **auth},
            )
            try:
                answer = response.json()
            except ValueError:
                answer = {"raw": response.text[:200]}
            results.append({"file": str(file), "status": response.status_code, **answer})
    return results


def target_from_state(state_dir: Path) -> ReplayTarget:
    """The running local stack's demo instances (``ponte up`` wrote where and with which secrets)."""
    state = json.loads((state_dir / "stack.json").read_text())
    secrets = json.loads((state_dir / "local-secrets.json").read_text())
    demo = state["demo"]
    instances = {demo["provider"]: (demo["instance_id"], secrets["demo_webhook_secret"])}
    if demo.get("cloud_instance_id") and secrets.get("demo_cloud_app_secret"):
        instances["cloud"] = (demo["cloud_instance_id"], secrets["demo_cloud_app_secret"])
    return ReplayTarget(proxy_url=state["proxy_url"], instances=instances)


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("replay", help="POST gateway payload files (or a folder of them) to the proxy")
    p.add_argument("path", type=Path)
    p.add_argument("--state-dir", type=Path, default=DEFAULT_STATE_DIR, help="where `ponte up` wrote stack.json")
    p.add_argument("--provider", choices=PROVIDERS)
    p.add_argument("--url", help="proxy base URL (default: the running local stack)")
    p.add_argument("--instance", help="instance id (default: the demo instance)")
    p.add_argument("--secret", help="webhook secret, or the Meta app's secret for cloud (default: the demo's)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    if args.url and args.instance and args.secret:
        # one instance given: every file goes to it (its provider from --provider or its folder)
        target = ReplayTarget(args.url, dict.fromkeys(PROVIDERS, (args.instance, args.secret)))
    else:
        target = target_from_state(args.state_dir)
    results = replay(payload_files(args.path), target, args.provider)
    for row in results:
        print(json.dumps(row, ensure_ascii=False))
    skipped = sum(1 for r in results if r["status"] is None)
    failed = sum(1 for r in results if r["status"] is not None and not 200 <= int(str(r["status"])) < 300)
    print(f"replayed {len(results) - skipped} file(s), {failed} not accepted, {skipped} skipped")
    return 0
