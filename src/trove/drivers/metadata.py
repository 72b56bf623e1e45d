"""The metadata registry (seed 3.2, "schema-on-read"): a Pydantic model per namespace.

`asset.metadata` stays a JSON document of namespaces; a namespace someone registered a schema
for is read through that schema (`AssetSDK.get_metadata`), written through it when users may
write it (a PATCH is validated, 422 naming the field), and published as JSON Schema
(`GET /api/dam/schemas`). A namespace nobody registered is the user's own, free-form.

Drivers declare schemas in `metadata_schemas`; so may media processors (a class attribute
of the same name), for the namespaces their step writes.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from trove.domain.namespaces import GalleryMeta
from trove.services.errors import Invalid

T = TypeVar("T", bound=BaseModel)


@dataclass(frozen=True, kw_only=True)
class MetadataSchema:
    namespace: str
    model: type[BaseModel]
    # Users may PATCH it (validated by `model`); otherwise a step writes it and it is read-only.
    writable: bool = False
    title: str = ""


def core_schemas() -> tuple[MetadataSchema, ...]:
    """Namespaces of Trove itself rather than of a type (the seed's `gallery`: a rating)."""
    return (MetadataSchema(namespace="gallery", model=GalleryMeta, writable=True, title="Rating"),)


class SchemaConflict(Exception):
    """Two plugins registered different models for one namespace."""


class MetadataRegistry:
    def __init__(self, schemas: Iterable[MetadataSchema] = ()) -> None:
        self._schemas: dict[str, MetadataSchema] = {}
        for schema in schemas:
            self.register(schema)

    def register(self, schema: MetadataSchema) -> None:
        known = self._schemas.get(schema.namespace)
        if known is not None and known != schema:
            raise SchemaConflict(f"namespace {schema.namespace!r} is registered twice, differently")
        self._schemas[schema.namespace] = schema

    def get(self, namespace: str) -> MetadataSchema | None:
        return self._schemas.get(namespace)

    def all(self) -> list[MetadataSchema]:
        return [self._schemas[name] for name in sorted(self._schemas)]

    def writable_namespaces(self) -> list[str]:
        """The namespaces a person fills in (ratings, ...), as opposed to what steps extract."""
        return [schema.namespace for schema in self.all() if schema.writable]

    def validate_write(self, namespace: str, values: dict[str, Any]) -> dict[str, Any]:
        """What a user's PATCH stores: unchanged for a free-form namespace, the model's JSON
        for a writable one; Invalid naming the field (or the namespace when read-only)."""
        schema = self._schemas.get(namespace)
        if schema is None:
            return values
        if not schema.writable:
            raise Invalid(f"metadata namespace {namespace!r} is written by Trove and read-only")
        try:
            model = schema.model.model_validate(values)
        except ValidationError as exc:
            raise Invalid(_first_problem(namespace, exc)) from exc
        return model.model_dump(mode="json", exclude_none=True)

    def json_schemas(self) -> list[dict[str, Any]]:
        return [
            {
                "namespace": s.namespace,
                "title": s.title or s.namespace,
                "writable": s.writable,
                "json_schema": s.model.model_json_schema(),
            }
            for s in self.all()
        ]


class AssetSDK:
    """Typed reads of an asset's namespaces (seed 3.2)."""

    def __init__(self, registry: MetadataRegistry) -> None:
        self.registry = registry

    def get_metadata(self, asset: Any, namespace: str, schema: type[T]) -> T:
        """The namespace as `schema`; an absent namespace is the schema's defaults. `asset` is
        an API dict (`metadata`), an index row (`meta`) or an `AssetView`."""
        return schema.model_validate(namespace_of(asset, namespace))

    def typed(self, asset: Any, namespace: str) -> BaseModel | None:
        """The namespace through its registered schema; None when none is registered or the
        stored values do not fit it (old data: shown raw rather than not at all)."""
        registered = self.registry.get(namespace)
        if registered is None:
            return None
        try:
            return registered.model.model_validate(namespace_of(asset, namespace))
        except ValidationError:
            return None


def namespace_of(asset: Any, namespace: str) -> dict[str, Any]:
    if isinstance(asset, dict):
        metadata = asset.get("metadata") or {}
    else:
        metadata = getattr(asset, "meta", None) or {}
    value = metadata.get(namespace)
    return value if isinstance(value, dict) else {}


def _first_problem(namespace: str, exc: ValidationError) -> str:
    error = exc.errors()[0]
    where = ".".join(str(part) for part in ("metadata", namespace, *error.get("loc", ())))
    return f"{where}: {error.get('msg', 'invalid')}"
