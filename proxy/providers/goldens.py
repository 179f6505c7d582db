"""Golden outputs of the provider fixtures: ``expected/<name>.json`` next to ``fixtures/<name>.json``.

Regenerate after an intended change, then review the diff before committing:

    .venv/bin/python -m proxy.providers.goldens            # every provider
    .venv/bin/python -m proxy.providers.goldens evolution  # one provider
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from ponte.domain.privacy import PrivacyPolicy, screen
from proxy.providers import NORMALIZERS
from proxy.providers.conformance import normalize_file

PROVIDERS_DIR = Path(__file__).resolve().parent
INSTANCE = "fixture-instance"


def fixture_paths(provider: str | None = None) -> list[tuple[str, Path]]:
    names = [provider] if provider else sorted(NORMALIZERS)
    return [(name, path) for name in names for path in sorted((PROVIDERS_DIR / name / "fixtures").glob("*.json"))]


def expected_path(fixture: Path) -> Path:
    return fixture.parent.parent / "expected" / fixture.name


def render(provider: str, fixture: Path) -> dict[str, Any]:
    """The full canonical result, plus what the default privacy policy would drop."""
    result = normalize_file(fixture, provider, INSTANCE)
    return {
        **result.model_dump(mode="json", exclude={"events"}),
        "events": [event.model_dump(mode="json", exclude_none=True) for event in result.events],
        "dropped_by_default_policy": [list(screen(e, PrivacyPolicy(), lambda _: False)[1]) for e in result.events],
    }


def dumps(value: dict[str, Any]) -> str:
    return json.dumps(value, ensure_ascii=False, indent=2, sort_keys=True) + "\n"


def main(argv: list[str]) -> int:
    provider = argv[1] if len(argv) > 1 else None
    written = 0
    for name, fixture in fixture_paths(provider):
        target = expected_path(fixture)
        target.parent.mkdir(exist_ok=True)
        target.write_text(dumps(render(name, fixture)))
        written += 1
    print(f"wrote {written} golden file(s)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
