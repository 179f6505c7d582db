"""The functions' composition root."""

from __future__ import annotations

from dataclasses import dataclass

from ponte.adapters.postgres.db import Database
from ponte.adapters.postgres.ingest_store import PgIngestStore
from ponte.services.ingest import IngestService
from ponte.settings import Settings


@dataclass
class FunctionsContainer:
    settings: Settings
    db: Database
    ingest: IngestService


def bootstrap(settings: Settings | None = None, *, db: Database | None = None) -> FunctionsContainer:
    settings = settings or Settings.from_env()
    if db is None:
        if not settings.database_url:
            raise RuntimeError("DATABASE_URL is not set")
        db = Database(settings.database_url, max_size=4)
    return FunctionsContainer(settings=settings, db=db, ingest=IngestService(PgIngestStore(db)))
