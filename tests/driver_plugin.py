"""A plugin refining the built-in document driver: it also claims `.ledger` files (which no
MIME type names) and owns a user-writable `review` namespace. Loaded by tests/test_drivers.py."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from trove.drivers.base import BaseAssetDriver, FileClaim
from trove.drivers.document import DocumentDriver
from trove.drivers.metadata import MetadataSchema
from trove.plugins.hookspecs import hookimpl


class Review(BaseModel):
    model_config = ConfigDict(extra="forbid")

    stars: int = Field(ge=1, le=5)
    note: str | None = None


class LedgerDocumentDriver(DocumentDriver):
    claims = FileClaim(
        mime_types=DocumentDriver.claims.mime_types,
        suffixes=frozenset({".ledger"}),
        mime_prefixes=DocumentDriver.claims.mime_prefixes,
    )
    metadata_schemas = (MetadataSchema(namespace="review", model=Review, writable=True),)


@hookimpl
def register_asset_drivers() -> list[BaseAssetDriver]:
    return [LedgerDocumentDriver()]
