"""A staged Chalice project deployed through ``chalice.cdk.Chalice``, with what Chalice omits.

Chalice's SAM output lacks two things an SQS consumer needs:

- ``FunctionResponseTypes: [ReportBatchItemFailures]``: without it Lambda ignores
  the handler's ``batchItemFailures`` and deletes a partly failed batch;
- the queue's real ARN: Chalice builds it from the name with ``Fn::Sub``, which
  gives CloudFormation no dependency on the queue (and the stack's queues have
  generated names).

Both are property overrides on the ``AWS::Serverless::Function`` events.
Permissions are added to each function's own role (Chalice makes one per
function with ``autogen_policy: false``) as an inline policy, so the role has
them before CloudFormation creates the event source mapping.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from aws_cdk import Stack
from aws_cdk import aws_iam as iam
from chalice.cdk import Chalice

from ponte_cdk.discovery import AppHandlers, DiscoveryError

SAM_FUNCTION = "AWS::Serverless::Function"
API_HANDLER = "api_handler"  # Chalice's name for the single Lambda behind API Gateway


@contextmanager
def _isolated_app_import(region: str) -> Iterator[None]:
    """Chalice imports the project's ``app.py`` in-process as the module ``app``.

    A second project in the same synth would get the first one's cached module,
    so ``app`` is dropped from ``sys.modules`` around each packaging, and
    ``sys.path`` (Chalice prepends the project dir) is restored. Chalice also
    insists on a region; CloudFormation's pseudo-parameters replace it anyway.
    """
    saved_path = list(sys.path)
    saved_module = sys.modules.pop("app", None)
    saved_region = os.environ.get("AWS_DEFAULT_REGION")
    os.environ.setdefault("AWS_DEFAULT_REGION", region)
    try:
        yield
    finally:
        sys.modules.pop("app", None)
        if saved_module is not None:
            sys.modules["app"] = saved_module
        sys.path[:] = saved_path
        if saved_region is None:
            os.environ.pop("AWS_DEFAULT_REGION", None)


@dataclass(frozen=True)
class DeployedFunction:
    name: str  # Chalice's function name: the handler's name, or ``api_handler``
    logical_id: str
    role_logical_id: str
    events: dict[str, Any]


class ChaliceApp:
    """Packages one staged Chalice project into ``stack`` and exposes its functions by name."""

    def __init__(
        self,
        stack: Stack,
        construct_id: str,
        *,
        source_dir: Path,
        handlers: AppHandlers,
        stage_config: dict[str, Any],
        region_for_packaging: str = "us-east-1",
    ) -> None:
        self.handlers = handlers
        # The construct uses its scope's path as the Chalice stage name, which ends up
        # in IAM role names: the stack itself is the scope so the stage has no "/".
        with _isolated_app_import(region_for_packaging):
            self.construct = Chalice(stack, construct_id, source_dir=str(source_dir), stage_config=stage_config)
        # The SAM template Chalice wrote (the construct keeps its location private).
        sam_path = Path(self.construct._sam_package_dir) / "sam.json"
        self.sam: dict[str, Any] = json.loads(sam_path.read_text())
        self.deployment_zip = sam_path.with_name("deployment.zip")
        self.functions = self._functions_by_name()
        self._policies: dict[str, iam.PolicyDocument] = {}

    def _functions_by_name(self) -> dict[str, DeployedFunction]:
        functions = {}
        for logical_id, resource in self.sam["Resources"].items():
            if resource["Type"] != SAM_FUNCTION:
                continue
            props = resource["Properties"]
            handler = props["Handler"]
            name = API_HANDLER if handler == "app.app" else handler.removeprefix("app.")
            role = props.get("Role", {}).get("Fn::GetAtt", [None])[0]
            if role is None:
                raise DiscoveryError(f"{logical_id}: expected a Chalice-managed role per function")
            functions[name] = DeployedFunction(name, logical_id, role, props.get("Events", {}))
        return functions

    def function(self, name: str) -> DeployedFunction:
        try:
            return self.functions[name]
        except KeyError:
            raise DiscoveryError(
                f"{self.handlers.app_name}: no function {name!r} in Chalice's template (has {sorted(self.functions)})"
            ) from None

    def sqs_event_id(self, handler_name: str, queue_name: str) -> str:
        """The SAM event of ``handler_name`` that reads ``queue_name`` (checked, not guessed)."""
        fn = self.function(handler_name)
        matches = [
            event_id
            for event_id, event in fn.events.items()
            if event["Type"] == "SQS"
            and str(event["Properties"]["Queue"].get("Fn::Sub", "")).endswith(f":{queue_name}")
        ]
        if len(matches) != 1:
            raise DiscoveryError(f"{handler_name}: expected one SQS event for {queue_name}, found {matches}")
        return matches[0]

    def override(self, function_name: str, path: str, value: Any) -> None:
        self.construct.get_resource(self.function(function_name).logical_id).add_property_override(path, value)

    def add_to_role(self, function_name: str, statement: iam.PolicyStatement) -> None:
        """Append to the function's own inline policy (created with the role, so before its event sources)."""
        fn = self.function(function_name)
        document = self._policies.get(fn.name)
        if document is None:
            document = iam.PolicyDocument()
            self._policies[fn.name] = document
            role = self.construct.get_resource(fn.role_logical_id)
            if not isinstance(role, iam.CfnRole):
                raise DiscoveryError(f"{fn.role_logical_id} is not an IAM role")
            existing = list(role.policies or [])
            role.policies = [
                *existing,
                iam.CfnRole.PolicyProperty(policy_name="ponte-access", policy_document=document),
            ]
        document.add_statements(statement)
