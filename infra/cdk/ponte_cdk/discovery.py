"""The handlers a Chalice app registers, read from the app object itself.

The stack wires whatever ``functions/app.py`` declares: every
``@app.on_sqs_message`` gets its queue (by name), and every ``@app.schedule``
its schedule. Nothing is listed twice, so a handler added later is deployed
and wired by the next synth.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass

from chalice.app import Chalice, CloudWatchEventConfig, ScheduledEventConfig, ScheduleExpression, SQSEventConfig


class DiscoveryError(Exception):
    """A Chalice app declares something the stack cannot deploy as intended."""


@dataclass(frozen=True)
class SqsHandler:
    name: str  # the Lambda function's Chalice name (the handler's name)
    queue: str  # the queue name given to ``on_sqs_message``
    batch_size: int
    batching_window_seconds: int


@dataclass(frozen=True)
class ScheduledHandler:
    name: str
    expression: str


@dataclass(frozen=True)
class AppHandlers:
    app_name: str
    sqs: tuple[SqsHandler, ...]
    scheduled: tuple[ScheduledHandler, ...]
    has_api: bool
    plain: tuple[str, ...] = ()  # ``@app.lambda_function`` handlers: deployed, invoked by name

    @property
    def function_names(self) -> tuple[str, ...]:
        api = ("api_handler",) if self.has_api else ()
        return (*api, *(h.name for h in self.sqs), *(h.name for h in self.scheduled), *self.plain)


def _expression(value: str | ScheduleExpression) -> str:
    return value if isinstance(value, str) else value.to_string()


def handlers_of(app: Chalice) -> AppHandlers:
    sqs: list[SqsHandler] = []
    scheduled: list[ScheduledHandler] = []
    for source in app.event_sources:
        if isinstance(source, SQSEventConfig):
            if not source.queue:
                # A handler bound to a bare ARN would bypass the stack's queues (and their DLQs).
                raise DiscoveryError(f"{app.app_name}.{source.name}: on_sqs_message needs a queue name, not an ARN")
            sqs.append(
                SqsHandler(source.name, source.queue, source.batch_size, source.maximum_batching_window_in_seconds)
            )
        elif isinstance(source, ScheduledEventConfig):
            scheduled.append(ScheduledHandler(source.name, _expression(source.schedule_expression)))
        elif isinstance(source, CloudWatchEventConfig):
            raise DiscoveryError(f"{app.app_name}.{source.name}: CloudWatch event rules are not wired by the stack")
        else:
            raise DiscoveryError(
                f"{app.app_name}.{source.name}: {type(source).__name__} handlers are not wired by the stack"
            )
    plain = tuple(fn.name for fn in app.pure_lambda_functions)
    return AppHandlers(app.app_name, tuple(sqs), tuple(scheduled), has_api=bool(app.routes), plain=plain)


def load_app(module: str) -> Chalice:
    """Import a Chalice app module (``functions.app``) and return its ``app`` object."""
    app = getattr(importlib.import_module(module), "app", None)
    if not isinstance(app, Chalice):
        raise DiscoveryError(f"{module}.app is not a Chalice app")
    return app
