"""The local Supabase Realtime server (see ``server.py``)."""

from ponte.localstack.realtime.server import RealtimeServer

__all__ = ["RealtimeServer"]
