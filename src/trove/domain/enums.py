"""The seed's enums (section 3.1), plus the statuses the seed uses but did not list."""

from enum import StrEnum


class AssetType(StrEnum):
    IMAGE = "image"
    VIDEO = "video"
    DOCUMENT = "document"
    AUDIO = "audio"
    OTHER = "other"
    # Virtual types
    URL = "url"
    COLLECTION = "collection"
    LOG_ENTRY = "log_entry"
    PROXY = "proxy"
    # Composite types
    REGION = "region"
    APP_PACKAGE = "app_package"
    TEXTURE_PACK = "texture_pack"


class AssetCategory(StrEnum):
    PHYSICAL = "physical"
    VIRTUAL = "virtual"
    COMPOSITE = "composite"


class AssetStatus(StrEnum):
    UPLOADING = "uploading"
    PROCESSING = "processing"
    READY = "ready"
    ERROR = "error"
    # The seed's FileWatcher marks vanished files MISSING; a root that cannot be reached as a
    # whole leaves its assets untouched and is itself OFFLINE (DESIGN.md).
    MISSING = "missing"
    OFFLINE = "offline"


class RootStatus(StrEnum):
    ONLINE = "online"
    OFFLINE = "offline"


class StepStatus(StrEnum):
    PENDING = "pending"
    OK = "ok"
    SKIPPED = "skipped"
    FAILED = "failed"


class Visibility(StrEnum):
    PRIVATE = "private"
    SHARED = "shared"
    PUBLIC = "public"


class Relation(StrEnum):
    """Relation names of the seed (section 3.3)."""

    CONTAINS = "contains"
    INCLUDES = "includes"
    OWNS = "owns"
    TRANSFORMED_TO = "transformed_to"
    EXTRACTED_FROM = "extracted_from"
    DOWNLOADED_BY = "downloaded_by"
    VISUALLY_SIMILAR_TO = "visually_similar_to"
    DEPICTS = "depicts"
    RELATED_TO = "related_to"
    # Logical dedup (seed 4.6): a copy -> the first-indexed asset with the same SHA-256. A
    # star, not a clique, so n copies cost n-1 edges; kept in step with the hashes by
    # IntegrityService.sync_duplicate_links (a copy whose bytes change loses its edge).
    DUPLICATE_OF = "duplicate_of"
    # Documents (seed 4.8): a later draft -> the one it revises; a document -> who signed it.
    VERSION_OF = "version_of"
    SIGNED_BY = "signed_by"
