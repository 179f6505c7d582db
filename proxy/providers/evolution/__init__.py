"""Evolution API v2.x (and the v1.8 shapes still seen in the field) -> canonical events."""

from proxy.providers.evolution.normalize import EVENT_HANDLERS, IGNORED_EVENTS, KNOWN_EVENTS, event_name, normalize

__all__ = ["EVENT_HANDLERS", "IGNORED_EVENTS", "KNOWN_EVENTS", "event_name", "normalize"]
