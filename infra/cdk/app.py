"""CDK entry point: ``cdk synth`` / ``cdk deploy`` run this (see cdk.json).

Context values (``-c key=value``): ``stage`` (default ``prod``), ``stackName``
(default ``Ponte``), ``workerUrl`` (the VPS worker's HTTPS URL), ``alarmEmail``,
``jwksUrl`` (Supabase's JWKS, when the project uses asymmetric signing keys).
"""

from __future__ import annotations

import shutil
from pathlib import Path

import aws_cdk as cdk

from ponte_cdk.stack import PonteStack
from ponte_cdk.wiring import StackSettings


def main() -> None:
    # The Chalice construct writes chalice.out/<uuid>/ (~35 MB) into the working directory on
    # every synth and never deletes it; the previous synths' packages are of no further use.
    shutil.rmtree(Path.cwd() / "chalice.out", ignore_errors=True)
    app = cdk.App()

    def context(key: str, default: str = "") -> str:
        value = app.node.try_get_context(key)
        return str(value) if value is not None else default

    settings = StackSettings(
        stage=context("stage", "prod"),
        worker_url=context("workerUrl"),
        alarm_email=context("alarmEmail"),
        jwks_url=context("jwksUrl"),
        web_origins=tuple(o.strip() for o in context("webOrigins").split(",") if o.strip()),
    )
    PonteStack(app, context("stackName", "Ponte"), settings=settings)
    app.synth()


if __name__ == "__main__":
    main()
