"""Stage each Chalice project so that its deployment package ships the shared code.

``proxy/`` and ``functions/`` are Chalice project directories (``app.py`` plus
``.chalice/config.json``) that import the ``ponte`` package (and their own
packages, e.g. ``proxy.providers``). Chalice zips only ``app.py``,
``chalicelib/``, ``vendor/`` and what ``requirements.txt`` resolves. So each
project is staged into ``build/lambda/<name>/`` with:

- ``.chalice/`` copied from the project, and an ``app.py`` that re-exports the project's
  ``app`` module from ``vendor/`` (Chalice's Lambda handlers are ``app.<name>``). The code
  thus runs from the package exactly as shipped, and Chalice's in-process import of
  ``app`` while packaging reuses the already imported module instead of running its
  module-level set-up (loggers, masking) a second time;
- ``vendor/``: the project wheel (built from ``pyproject.toml`` by its build
  backend, which decides what the shared code is) unpacked, plus the runtime
  dependencies installed for Lambda's platform (manylinux2014 x86_64, the
  local CPython version, wheels only);
- no ``requirements.txt``: Chalice then does no dependency work of its own.

Why not the wheel's path in ``requirements.txt``: pip would also resolve the
wheel's own dependencies, and ``chalice`` (needed locally; its packager injects
``chalice/app.py`` itself) would drag pip, setuptools, click, inquirer... into
each Lambda. And Chalice's zip cache is keyed on ``requirements.txt``, app files
and ``vendor/`` contents, so any code change re-ran its pip resolution (~60 s
here). The dependencies are instead installed once per requirement set into a
cache outside the repository (``$XDG_CACHE_HOME/ponte/lambda-deps/<digest>``),
shared by both projects and every worktree; a code change only re-zips.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import tomllib
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[3]
DEFAULT_BUILD_DIR = REPO_ROOT / "build" / "lambda"
CHALICE_PROJECTS = ("proxy", "functions")

# Lambda's platform for the x86_64 Python runtimes up to 3.11 (Amazon Linux 2, glibc 2.26).
LAMBDA_PLATFORM = "manylinux2014_x86_64"

# Provided in Lambda without shipping them: chalice's runtime (``chalice/app.py``)
# is added by its packager; boto3/botocore come with the Python runtime and would
# add ~24 MB unzipped (botocore alone is ~15 MB).
NOT_SHIPPED = frozenset({"chalice", "boto3", "botocore"})

# Every function's own policy file: CloudWatch Logs only. Queues and secrets are
# granted per function by the CDK stack.
BASE_POLICY_FILE = "policy-base.json"
BASE_POLICY = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Effect": "Allow",
            "Action": ["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents"],
            "Resource": "arn:*:logs:*:*:*",
        }
    ],
}


class BundleError(Exception):
    """The shared code or the dependencies could not be built or staged."""


@dataclass(frozen=True)
class StagedProject:
    name: str
    path: Path
    wheel: Path | None
    dependencies: Path | None


def _requirement_name(requirement: str) -> str:
    match = re.match(r"\s*([A-Za-z0-9][A-Za-z0-9._-]*)", requirement)
    if not match:
        raise BundleError(f"cannot parse requirement {requirement!r}")
    return re.sub(r"[-_.]+", "-", match.group(1)).lower()


def runtime_requirements(pyproject: Path = REPO_ROOT / "pyproject.toml") -> tuple[str, ...]:
    """The project's pinned runtime dependencies, less what Lambda already provides."""
    project = tomllib.loads(pyproject.read_text())["project"]
    return tuple(req for req in project["dependencies"] if _requirement_name(req) not in NOT_SHIPPED)


def python_version() -> str:
    """Chalice picks the Lambda runtime from the local interpreter; the dependencies must match it."""
    return f"{sys.version_info.major}.{sys.version_info.minor}"


def cache_root() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "ponte" / "lambda-deps"


def _run(argv: list[str], what: str, cwd: Path | None = None) -> str:
    result = subprocess.run(argv, cwd=cwd, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise BundleError(f"{what} failed ({result.returncode}):\n{result.stderr[-4000:]}")
    return result.stdout


def install_dependencies(requirements: Iterable[str], cache: Path | None = None) -> Path:
    """Install the requirements for Lambda's platform once; later calls reuse the directory.

    The directory name is a digest of the requirements and the target platform. It
    is written under a temporary name and renamed when complete, so concurrent
    builds (several worktrees, one cache) never see a half-installed tree.
    """
    reqs = sorted(requirements)
    version = python_version()
    digest = hashlib.sha256(json.dumps([reqs, LAMBDA_PLATFORM, version]).encode()).hexdigest()[:16]
    root = cache or cache_root()
    target = root / f"py{version}-{digest}"
    if target.is_dir():
        return target
    root.mkdir(parents=True, exist_ok=True)
    partial = Path(tempfile.mkdtemp(prefix=f".{target.name}-", dir=root))
    try:
        requirements_file = partial / "requirements.txt"
        requirements_file.write_text("".join(f"{req}\n" for req in reqs))
        site = partial / "site-packages"
        _run(
            [
                sys.executable,
                "-m",
                "pip",
                "install",
                "--quiet",
                "--no-compile",
                "--upgrade",
                "--target",
                str(site),
                "--only-binary=:all:",
                "--platform",
                LAMBDA_PLATFORM,
                "--implementation",
                "cp",
                "--python-version",
                version,
                "-r",
                str(requirements_file),
            ],
            "installing the Lambda dependencies",
        )
        shutil.rmtree(site / "bin", ignore_errors=True)  # console scripts are of no use in Lambda
        try:
            partial.rename(target)
        except OSError:
            if not target.is_dir():  # anything but "another build finished first" is an error
                raise
    finally:
        shutil.rmtree(partial, ignore_errors=True)
    return target


def build_wheel(out_dir: Path, source_dir: Path = REPO_ROOT) -> Path:
    """Build the project wheel with its declared PEP 517 backend (no isolation: the venv has it)."""
    backend = tomllib.loads((source_dir / "pyproject.toml").read_text())["build-system"]["build-backend"]
    # setuptools reuses build/lib between builds; a module deleted from the tree would linger there.
    shutil.rmtree(source_dir / "build" / "lib", ignore_errors=True)
    out_dir.mkdir(parents=True, exist_ok=True)
    for old in out_dir.glob("*.whl"):
        old.unlink()
    script = f"import importlib, sys; print(importlib.import_module({backend!r}).build_wheel(sys.argv[1]))"
    stdout = _run([sys.executable, "-c", script, str(out_dir)], "building the project wheel", cwd=source_dir)
    wheel = out_dir / stdout.strip().splitlines()[-1]
    if not wheel.is_file():
        raise BundleError(f"the build backend reported {wheel.name} but wrote no such file")
    return wheel


def _unpack_wheel(wheel: Path, vendor: Path) -> None:
    with zipfile.ZipFile(wheel) as archive:
        for member in archive.namelist():
            # A wheel holds relative paths only; refuse rather than write outside vendor/.
            if member.startswith("/") or ".." in Path(member).parts:
                raise BundleError(f"unsafe path in wheel: {member}")
        archive.extractall(vendor)


def _link_dependencies(site_packages: Path, vendor: Path) -> None:
    """Chalice follows symlinks in vendor/ (both for its cache key and for the zip)."""
    for entry in site_packages.iterdir():
        link = vendor / entry.name
        if link.exists() or link.is_symlink():
            raise BundleError(f"{entry.name} is both a dependency and part of the project wheel")
        link.symlink_to(entry, target_is_directory=entry.is_dir())


def _write_if_changed(path: Path, content: str) -> None:
    if not path.exists() or path.read_text() != content:
        path.write_text(content)


def _prune_stale_packages(deployments: Path, keep: int = 2) -> None:
    """Chalice never deletes its old zips (~16 MB each); keep only the newest few."""
    if not deployments.is_dir():
        return
    zips = sorted(deployments.glob("*.zip"), key=lambda p: p.stat().st_mtime, reverse=True)
    for stale in zips[keep:]:
        stale.unlink()


ENTRY_SHIM = """\
\"\"\"Lambda entry module, generated by infra/cdk/ponte_cdk/lambda_bundle.py: the app is {module}.\"\"\"

import {module} as _module

globals().update({{k: v for k, v in vars(_module).items() if not k.startswith("__")}})
"""


def stage_project(
    name: str,
    wheel: Path | None,
    dependencies: Path | None,
    build_dir: Path,
    *,
    source_root: Path = REPO_ROOT,
    entry_module: str | None = None,
) -> StagedProject:
    """Stage a Chalice project into ``build_dir/name`` with the shared code and dependencies in ``vendor/``.

    With ``entry_module`` (``functions.app``), ``app.py`` re-exports that module from ``vendor/``;
    without, the project's ``app.py`` is copied as is.
    """
    source = source_root / name
    if not (source / "app.py").is_file() or not (source / ".chalice" / "config.json").is_file():
        raise BundleError(f"{source} is not a Chalice project (app.py and .chalice/config.json)")
    target = build_dir / name
    chalice_dir = target / ".chalice"
    chalice_dir.mkdir(parents=True, exist_ok=True)
    # .chalice/deployments (Chalice's zip cache, keyed on contents) survives restaging.
    if entry_module is None:
        shutil.copy2(source / "app.py", target / "app.py")
    else:
        _write_if_changed(target / "app.py", ENTRY_SHIM.format(module=entry_module))
    shutil.copy2(source / ".chalice" / "config.json", chalice_dir / "config.json")
    _write_if_changed(chalice_dir / BASE_POLICY_FILE, json.dumps(BASE_POLICY, indent=2) + "\n")
    (target / "requirements.txt").unlink(missing_ok=True)
    vendor = target / "vendor"
    if vendor.exists():
        shutil.rmtree(vendor)
    vendor.mkdir()
    if wheel is not None:
        _unpack_wheel(wheel, vendor)
    if dependencies is not None:
        _link_dependencies(dependencies / "site-packages", vendor)
    _prune_stale_packages(chalice_dir / "deployments")
    return StagedProject(name=name, path=target, wheel=wheel, dependencies=dependencies)


def stage_all(
    build_dir: Path = DEFAULT_BUILD_DIR, projects: Iterable[str] = CHALICE_PROJECTS
) -> dict[str, StagedProject]:
    """Build the wheel once, install the dependencies once, stage every Chalice project."""
    wheel = build_wheel(build_dir / "wheels")
    dependencies = install_dependencies(runtime_requirements())
    return {name: stage_project(name, wheel, dependencies, build_dir, entry_module=f"{name}.app") for name in projects}
