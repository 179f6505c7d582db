"""The VPS worker's systemd unit is valid for systemd itself, and its env template is complete."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.unit

WORKER_DIR = Path(__file__).resolve().parents[2] / "infra" / "worker"
VENV_PYTHON = "/opt/ponte/venv/bin/python"


def test_systemd_accepts_the_unit(tmp_path: Path) -> None:
    unit = (WORKER_DIR / "ponte-worker.service").read_text()
    assert f"ExecStart={VENV_PYTHON} -m inference_worker" in unit
    assert "EnvironmentFile=/etc/ponte/worker.env" in unit
    # GIVEN the unit with its interpreter pointed at one that exists here (verify checks it)
    local = tmp_path / "ponte-worker.service"
    local.write_text(unit.replace(VENV_PYTHON, sys.executable))
    # WHEN systemd's own verifier reads it, THEN it reports nothing
    result = subprocess.run(["systemd-analyze", "verify", str(local)], capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr
    assert result.stderr.strip() == ""


def test_the_env_template_sets_the_token_and_binds_to_loopback() -> None:
    lines = (WORKER_DIR / "worker.env.example").read_text().splitlines()
    settings = dict(line.split("=", 1) for line in lines if re.match(r"^[A-Z_]+=", line))
    assert settings["PONTE_WORKER_TOKEN"] == ""  # never a default secret
    assert settings["PONTE_WORKER_HOST"] == "127.0.0.1"
    assert all(name.startswith(("PONTE_WORKER_", "OMP_")) for name in settings)
