"""Domain errors."""


class DomainError(Exception):
    """Base of every domain error."""


class AnomalousPayloadError(DomainError):
    """The payload is not what the provider sends: rejected with a 4xx and a machine code."""

    def __init__(self, code: str, detail: str) -> None:
        super().__init__(f"{code}: {detail}")
        self.code = code
        self.detail = detail


class UnsupportedEventError(DomainError):
    """A known event that Ponte does not handle: acknowledged (200) and recorded."""

    def __init__(self, event_name: str, code: str = "unsupported_event") -> None:
        super().__init__(event_name)
        self.event_name = event_name
        self.code = code
