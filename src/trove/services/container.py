"""The services of one running Trove, built once from Settings (the composition root)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, BinaryIO

from trove.config import Settings
from trove.db.database import Database
from trove.db.migrate import ensure_schema
from trove.domain.access import Viewer
from trove.domain.enums import AssetStatus
from trove.drivers.manager import AssetDriverManager
from trove.drivers.metadata import MetadataSchema
from trove.services.albums import AlbumService
from trove.services.archives import ArchiveService
from trove.services.assets import AssetService
from trove.services.background import BackgroundIndexer
from trove.services.breadcrumbs import Breadcrumbs
from trove.services.edits import EditService
from trove.services.health import HealthService
from trove.services.installs import InstallService
from trove.services.integrity import IntegrityService
from trove.services.library import LibraryService
from trove.services.library_admin import LibraryAdmin
from trove.services.links import LinkManager, load_relations
from trove.services.media import MediaService
from trove.services.people import PeopleService
from trove.services.picker import PickerService
from trove.services.places import PlacesService
from trove.services.regions import RegionService
from trove.services.scanner import ScanService
from trove.services.search import SearchService
from trove.services.semantic import SemanticSearch
from trove.services.shares import ShareService
from trove.services.stacks import StackService
from trove.services.trash import TrashService
from trove.services.uploads import UploadService
from trove.services.user_data import UserDataService
from trove.services.users import UserService


@dataclass
class Services:
    settings: Settings
    database: Database
    assets: AssetService
    library: LibraryService
    scanner: ScanService
    indexer: BackgroundIndexer
    integrity: IntegrityService
    media: MediaService
    links: LinkManager
    albums: AlbumService
    breadcrumbs: Breadcrumbs
    shares: ShareService
    places: PlacesService
    archives: ArchiveService
    installs: InstallService
    health: HealthService
    search: SearchService
    semantic: SemanticSearch
    users: UserService
    uploads: UploadService
    library_admin: LibraryAdmin
    drivers: AssetDriverManager
    regions: RegionService = field(init=False)  # built on `assets` and `indexer`
    people: PeopleService = field(init=False)  # built on `regions`
    edits: EditService = field(init=False)  # built on `assets`
    picker: PickerService = field(init=False)  # built on `assets`
    user_data: UserDataService = field(init=False)  # built on `assets`, `albums`, `links`
    trash: TrashService = field(init=False)  # built on `assets`
    stacks: StackService = field(init=False)  # built on `assets`

    @classmethod
    def create(cls, settings: Settings) -> Services:
        ensure_schema(settings.resolved_database_url)
        database = Database(settings.resolved_database_url)
        library = LibraryService(settings, database=database)
        relations = load_relations(settings)
        indexer = BackgroundIndexer(library)
        links = LinkManager(settings, database, relations=relations)
        drivers = AssetDriverManager.load(settings)
        drivers.more_schemas = lambda: _processor_schemas(library)
        semantic = SemanticSearch(settings, database, hierarchical=relations.hierarchical())
        assets = AssetService(
            settings,
            database,
            hierarchical=relations.hierarchical(),
            drivers=drivers,
            links=links,
            semantic=semantic,
        )
        services = cls(
            settings=settings,
            database=database,
            assets=assets,
            library=library,
            scanner=ScanService(settings, database=database, drivers=drivers),
            indexer=indexer,
            integrity=IntegrityService(settings, database),
            media=MediaService(settings, database, pipeline=library.pipeline),
            links=links,
            albums=AlbumService(
                settings, database, links=links, on_preview_stale=indexer.request_processing
            ),
            breadcrumbs=Breadcrumbs(database),
            places=PlacesService(database),
            archives=ArchiveService(settings, database),
            installs=InstallService(settings, database),
            health=HealthService(settings, database, indexer=indexer),
            search=SearchService(settings, database, hierarchical=relations.hierarchical()),
            semantic=semantic,
            users=UserService(settings, database),
            uploads=UploadService(settings, database),
            library_admin=LibraryAdmin(settings, database, hierarchical=relations.hierarchical()),
            drivers=drivers,
            shares=ShareService(settings, database, assets=assets),
        )
        services.regions = RegionService(database, assets=services.assets, indexer=indexer)
        services.people = PeopleService(settings, database, regions=services.regions, links=links)
        services.edits = EditService(settings, database, assets=services.assets)
        services.picker = PickerService(database, assets=services.assets)
        services.user_data = UserDataService(
            settings,
            database,
            assets=assets,
            albums=services.albums,
            links=links,
            edits=services.edits,
        )
        services.trash = TrashService(database, assets=services.assets)
        services.stacks = StackService(database, assets=services.assets)
        indexer.after_processing.append(services.albums.refresh_previews)
        # A library indexed before search existed gets its documents in the background.
        indexer.after_processing.append(services.search.backfill)
        # An edited photo whose file changed shows its edits drawn on the new content.
        indexer.after_processing.append(services.edits.refresh_stale)
        return services

    # Set by start_sync (serve only): the FileWatcher and the Scavenger.
    watcher: Any = None
    scavenger: Any = None

    def start_sync(self) -> None:
        """Watch every root (or poll it, saying why) and start the periodic rescans and
        bitrot checks; each root is rescanned once now for what changed while Trove was down."""
        from trove.services.user_data.nightly import NightlyExport
        from trove.sync.scavenger import Scavenger, known_root_paths
        from trove.sync.watcher import FileWatcher

        if self.settings.watch:
            self.watcher = FileWatcher(self.settings, self.indexer, scanner=self.scanner)
            self.watcher.start()
        else:
            for path in known_root_paths(self.settings.resolved_database_url):
                self.indexer.request_scan(path)
        nightly = NightlyExport(self.settings, self.user_data)
        self.scavenger = Scavenger(
            self.settings,
            self.indexer,
            verify=lambda stop, full: self.integrity.verify(
                max_age_days=None if full else self.settings.verify_max_age_days, stop=stop
            ),
            roots=lambda: known_root_paths(self.settings.resolved_database_url),
            nightly=lambda: self.indexer.submit("nightly export", nightly.run),
            upkeep=self.uploads.place_waiting,
        )
        self.scavenger.start()

    def upload(
        self,
        viewer: Viewer,
        filename: str,
        content: BinaryIO,
        *,
        root_id: str | None = None,
        modified_ms: int | None = None,
    ) -> dict[str, Any]:
        """Store and register a whole-file upload, then have the indexer process it."""
        asset_id = self.uploads.store(
            viewer, filename, content, root_id=root_id, modified_ms=modified_ms
        )
        self.indexer.request_processing()
        return self.assets.get(asset_id, viewer=viewer)

    def upload_completed(self, upload_id: str, metadata: dict[str, str]) -> str:
        """A resumable upload's last byte arrived: placed (where its uploader may put it),
        registered, then processed."""
        asset_id = self.uploads.complete(upload_id, metadata)
        self.indexer.request_processing()
        return asset_id

    def remove_library(self, root_id: str) -> dict[str, Any]:
        """Forget a library (records only; its files stay) and what albums showed of it."""
        forgotten = self.library_admin.remove(root_id)
        self.albums.refresh_previews()
        return forgotten

    def update_library(
        self,
        root_id: str,
        *,
        include_globs: list[str] | None = None,
        exclude_globs: list[str] | None = None,
        is_upload_target: bool | None = None,
    ) -> dict[str, Any]:
        """Change a library's rules; new globs are applied by a rescan, queued now."""
        changed = self.library_admin.update(
            root_id,
            include_globs=include_globs,
            exclude_globs=exclude_globs,
            is_upload_target=is_upload_target,
        )
        if changed:
            return self.library.request_rescan(root_id, indexer=self.indexer)
        return self.library.root(root_id)

    def ingest_virtual(self, asset_type: str, data: Any, *, viewer: Viewer) -> dict[str, Any]:
        """Create a virtual asset (AssetService.ingest_virtual); its pipeline runs next."""
        asset = self.assets.ingest_virtual(asset_type, data, viewer=viewer)
        if asset["status"] == AssetStatus.PROCESSING:
            self.indexer.request_processing()
        return asset

    def status(self, *, viewer: Viewer) -> dict[str, Any]:
        """The library's state with what the indexer and the watcher are doing right now."""
        watcher = self.watcher.status() if self.watcher is not None else None
        library = self.library.status(viewer=viewer)
        indexer = self.indexer.snapshot()
        if not viewer.sees_everything:
            shown = {root["path"] for root in library["roots"]}
            indexer, watcher = indexer_shown(indexer, shown), watcher_shown(watcher, shown)
        return {
            **library,
            "warnings": [*self.indexer.warnings(), *library["warnings"]],
            "indexer": indexer,
            "watcher": watcher,
        }

    def close(self) -> None:
        for part in (self.scavenger, self.watcher):
            if part is not None:
                part.stop()
        self.indexer.stop()
        self.health.close()
        self.database.dispose()


def indexer_shown(indexer: dict[str, Any], shown: set[str]) -> dict[str, Any]:
    """What the indexer says about the libraries in `shown` only (a member's): the others'
    folders, scans and errors are not theirs to know. A scan of another library shows as
    "scan", without its folder; the last error, which may be about any library, not at all."""

    def label(job: str) -> str:
        kind, _, path = job.partition(" ")
        return job if not path or path in shown else kind

    running = indexer["running"]
    return {
        **indexer,
        "running": None if running is None else label(running),
        "queued": [label(job) for job in indexer["queued"]],
        "last_scans": {p: scan for p, scan in indexer["last_scans"].items() if p in shown},
        "last_error": None,
    }


def watcher_shown(watcher: dict[str, Any] | None, shown: set[str]) -> dict[str, Any] | None:
    """What the watcher says about the libraries in `shown` only (a member's)."""
    if watcher is None:
        return None
    return {
        **watcher,
        "roots": {p: state for p, state in watcher["roots"].items() if p in shown},
        "setup_s": {p: s for p, s in watcher["setup_s"].items() if p in shown},
    }


def _processor_schemas(library: LibraryService) -> list[MetadataSchema]:
    """The namespaces the media processors declare (`metadata_schemas`, optional)."""
    return [
        schema
        for processor in library.pipeline().processors
        for schema in getattr(processor, "metadata_schemas", ())
    ]
