"""Meta's official WhatsApp Cloud API -> canonical events."""

from proxy.providers.cloud.normalize import EVENT_HANDLERS, IGNORED_EVENTS, KNOWN_EVENTS, normalize

__all__ = ["EVENT_HANDLERS", "IGNORED_EVENTS", "KNOWN_EVENTS", "normalize"]
