"""The services of one running Trove, built once from Settings (the composition root)."""

from __future__ import annotations

from dataclasses import dataclass

from trove.config import Settings
from trove.db.database import Database
from trove.db.migrate import ensure_schema
from trove.services.assets import AssetService
from trove.services.background import BackgroundIndexer
from trove.services.library import LibraryService
from trove.services.media import MediaService
from trove.services.scanner import ScanService


@dataclass
class Services:
    settings: Settings
    database: Database
    assets: AssetService
    library: LibraryService
    scanner: ScanService
    indexer: BackgroundIndexer
    media: MediaService

    @classmethod
    def create(cls, settings: Settings) -> Services:
        ensure_schema(settings.resolved_database_url)
        database = Database(settings.resolved_database_url)
        library = LibraryService(settings, database=database)
        return cls(
            settings=settings,
            database=database,
            assets=AssetService(settings, database),
            library=library,
            scanner=ScanService(settings, database=database),
            indexer=BackgroundIndexer(library),
            media=MediaService(settings, database, pipeline=library.pipeline),
        )

    def close(self) -> None:
        self.indexer.stop()
        self.database.dispose()
