"""Errors raised by adapters, translated from vendor exceptions at the boundary."""


class AdapterError(Exception):
    """Base of adapter errors."""


class QueuePublishError(AdapterError):
    """SQS did not take every message; the webhook must not be acknowledged."""
