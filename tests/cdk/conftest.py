"""In-process synths of the production stack, once per test session, in a temporary directory.

The Chalice construct writes ``chalice.out/`` into the working directory (and
never cleans it); jsii caches packages under ``~/.cache`` by default. The synths
run with the working directory in a temporary dir and the jsii cache in the
user's cache dir, so nothing lands in the repository. The Lambda dependencies
come from ``ponte_cdk.lambda_bundle``'s cache (installed once per requirement set).

Two stacks: ``real`` deploys ``proxy/`` and ``functions/`` as they are;
``sample`` swaps in ``sample_functions/`` (a handler on every queue and two
schedules), which shows that handlers added later are wired with no stack change.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from ponte_cdk.lambda_bundle import StagedProject, stage_all, stage_project

HERE = Path(__file__).resolve().parent


@dataclass
class Synth:
    stack: Any  # ponte_cdk.stack.PonteStack
    template: Any  # aws_cdk.assertions.Template
    json: dict[str, Any]
    outdir: Path

    def resources(self, type_name: str) -> dict[str, dict[str, Any]]:
        return {k: v for k, v in self.json["Resources"].items() if v["Type"] == type_name}

    def function(self, app: str, name: str) -> dict[str, Any]:
        logical_id = self.stack.apps[app].function(name).logical_id
        resource: dict[str, Any] = self.json["Resources"][logical_id]
        return resource

    def role_statements(self, app: str, name: str) -> list[dict[str, Any]]:
        role = self.json["Resources"][self.stack.apps[app].function(name).role_logical_id]
        return [st for policy in role["Properties"]["Policies"] for st in policy["PolicyDocument"]["Statement"]]


@dataclass
class Synths:
    real: Synth
    sample: Synth
    staged: dict[str, StagedProject]
    workdir: Path


def _jsii_cache() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "ponte" / "jsii"


def _logging_state() -> dict[str, tuple[int, bool, list[logging.Handler]]]:
    loggers = [
        logging.getLogger(),
        *(v for v in logging.Logger.manager.loggerDict.values() if isinstance(v, logging.Logger)),
    ]
    return {lg.name: (lg.level, lg.propagate, list(lg.handlers)) for lg in loggers}


def _restore_logging(state: dict[str, tuple[int, bool, list[logging.Handler]]]) -> None:
    """Packaging imports apps and creates ``Chalice(app_name=...)`` objects, which set the level and
    handlers of the logger named after the app (shared with the real app's Powertools logger)."""
    for name, (level, propagate, handlers) in state.items():
        lg = logging.getLogger(name) if name != "root" else logging.getLogger()
        lg.setLevel(level)
        lg.propagate = propagate
        lg.handlers[:] = handlers


@pytest.fixture(scope="session")
def synths(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Synths]:
    workdir = tmp_path_factory.mktemp("cdk")
    logging_before = _logging_state()
    with pytest.MonkeyPatch.context() as mp:
        mp.chdir(workdir)
        mp.setenv("JSII_RUNTIME_PACKAGE_CACHE_ROOT", str(_jsii_cache()))
        # Imported here: the jsii runtime starts with aws_cdk, and only this group needs it.
        import aws_cdk as cdk
        from aws_cdk.assertions import Template

        from ponte_cdk.discovery import load_app
        from ponte_cdk.stack import APPS, ChaliceProject, PonteStack
        from ponte_cdk.wiring import StackSettings

        settings = StackSettings(stage="test", worker_url="https://worker.example.test", alarm_email="ops@example.test")
        staged = stage_all(build_dir=workdir / "lambda")
        projects = {name: ChaliceProject(staged[name].path, load_app(module)) for name, module in APPS.items()}
        sample_dir = stage_project("sample_functions", None, None, workdir / "lambda", source_root=HERE).path
        sample = {**projects, "functions": ChaliceProject(sample_dir, load_app("tests.cdk.sample_functions.app"))}

        built = {}
        for name, project_set in (("real", projects), ("sample", sample)):
            # CDK's built-in CloudFormation validation costs ~7 s of CPU per synth: it runs on the
            # real stack (and a test reads its report), not on the sample.
            app = cdk.App(outdir=str(workdir / f"cdk.out.{name}"), builtin_cloud_formation_validation=name == "real")
            stack = PonteStack(app, f"Ponte{name.capitalize()}", settings=settings, projects=project_set)
            template = Template.from_stack(stack)
            built[name] = Synth(stack=stack, template=template, json=template.to_json(), outdir=Path(app.outdir))
    # The working directory and the loggers are restored before any test runs: other tests rely on them.
    _restore_logging(logging_before)
    yield Synths(real=built["real"], sample=built["sample"], staged=staged, workdir=workdir)
