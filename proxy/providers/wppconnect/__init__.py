"""WPPConnect Server 2.x -> canonical events."""

from proxy.providers.wppconnect.normalize import EVENT_HANDLERS, IGNORED_EVENTS, KNOWN_EVENTS, event_name, normalize

__all__ = ["EVENT_HANDLERS", "IGNORED_EVENTS", "KNOWN_EVENTS", "event_name", "normalize"]
