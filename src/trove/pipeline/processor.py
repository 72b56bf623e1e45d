"""The MediaProcessor protocol (seed 4.4) and what a step reports back."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from trove.domain.enums import StepStatus


@dataclass(frozen=True, kw_only=True)
class AssetView:
    """What a processor may read about an asset: plain values, no database session."""

    id: str
    path: Path
    size: int | None
    mtime_ns: int | None
    mime_type: str | None
    asset_type: str
    hash: str | None


@dataclass(frozen=True, kw_only=True)
class StepResult:
    status: StepStatus
    message: str | None = None
    # Core fields of the asset to set (e.g. {"hash": ...}); applied by the pipeline.
    updates: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def ok(cls, **updates: Any) -> StepResult:
        return cls(status=StepStatus.OK, updates=updates)

    @classmethod
    def skipped(cls, reason: str) -> StepResult:
        return cls(status=StepStatus.SKIPPED, message=reason)

    @classmethod
    def failed(cls, reason: str) -> StepResult:
        return cls(status=StepStatus.FAILED, message=reason)


class MediaProcessor(Protocol):
    name: str
    version: int
    requires: tuple[str, ...]
    # A failure of a required step puts the asset in `error`; others only record the failure.
    required: bool

    def applies_to(self, asset: AssetView) -> bool: ...

    def process(self, asset: AssetView) -> StepResult: ...
