"""Errors of the service layer, each with its HTTP meaning and machine code."""

from __future__ import annotations


class ServiceError(Exception):
    status_code: int = 500
    code: str = "internal_error"

    def __init__(self, message: str = "", *, code: str | None = None) -> None:
        super().__init__(message or self.code)
        if code is not None:
            self.code = code
        self.message = message or self.code


class BadRequestError(ServiceError):
    status_code = 400
    code = "bad_request"


class UnauthorizedError(ServiceError):
    status_code = 401
    code = "unauthorized"


class ForbiddenError(ServiceError):
    status_code = 403
    code = "forbidden"


class NotFoundError(ServiceError):
    status_code = 404
    code = "not_found"


class ConflictError(ServiceError):
    status_code = 409
    code = "conflict"


class PayloadTooLargeError(ServiceError):
    status_code = 413
    code = "payload_too_large"


class RateLimitedError(ServiceError):
    """Too much from one caller: try again after ``retry_after`` seconds (the Retry-After header)."""

    status_code = 429
    code = "rate_limited"

    def __init__(self, message: str = "", *, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class UnprocessableError(ServiceError):
    status_code = 422
    code = "unprocessable"


class QueueUnavailableError(ServiceError):
    status_code = 503
    code = "queue_unavailable"


class BadGatewayError(ServiceError):
    """The gateway refused or failed in a way the caller cannot fix by retrying now."""

    status_code = 502
    code = "gateway_error"


class ServiceUnavailableError(ServiceError):
    status_code = 503
    code = "service_unavailable"
