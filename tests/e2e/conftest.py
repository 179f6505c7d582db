from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest

from ponte.localstack.seed import seed_tenant
from ponte.localstack.stack import LocalStack

OTHER_TENANT = "00000000-0000-4000-8000-0000000000b1"
OTHER_USER = "00000000-0000-4000-8000-0000000000b2"


@pytest.fixture
def stack_overrides() -> dict[str, Any]:
    """Settings a test gives its stack (``@pytest.mark.parametrize("stack_overrides", [{...}])``)."""
    return {}


@pytest.fixture
def stack_verbose() -> bool:
    """The proxy's request lines logged (``@pytest.mark.parametrize("stack_verbose", [True])``)."""
    return False


@pytest.fixture
def stack(db_dsn: str, tmp_path: Path, stack_overrides: dict[str, Any], stack_verbose: bool) -> Iterator[LocalStack]:
    """The local stack on loopback, over a fresh database."""
    s = LocalStack(
        state_dir=tmp_path / "state",
        database_url=db_dsn,
        proxy_port=0,
        keep_data=False,
        overrides=stack_overrides,
        verbose=stack_verbose,
    ).start()
    with psycopg.connect(db_dsn) as conn:
        seed_tenant(conn, tenant_id=OTHER_TENANT, name="Outra Loja", user_id=OTHER_USER, email="b@outra.local")
    try:
        yield s
    finally:
        s.stop()


from tests.e2e.gateway_support import gateway  # noqa: E402, F401 - the fake-gateway fixture
