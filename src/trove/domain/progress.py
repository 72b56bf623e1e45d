"""One denominator for the libraries' progress: the files the viewer's libraries hold.

Steps apply to different files (previews to images, text to documents), so per-step totals
made bars that could not be compared or added up. Here every bar is over the same files:
a step is as far along as the share of them it has no work pending for, and the whole
pipeline as far as the share no longer processing. The ETA divides what is left by the
recent rate (None while nothing has been measured yet).
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field


class StepProgress(BaseModel):
    pending: int = Field(description="Files queued for or running this step.")
    failed: int
    fraction: float = Field(description="Share of all files this step has no work for.")


class LibraryProgress(BaseModel):
    files: int = Field(description="Files in the libraries: the denominator of every bar.")
    processing: int = Field(description="Files waiting for or in their pipeline pass.")
    fraction: float = Field(description="Share of the files fully processed (0-1).")
    per_second: float = Field(description="Files finished per second, recently.")
    eta_seconds: float | None = Field(
        description="Seconds left at the recent rate; None when idle or not yet measured."
    )
    steps: dict[str, StepProgress]


def library_progress(*, files: int, processing: int, jobs: dict[str, Any]) -> LibraryProgress:
    """`files` and `processing` from the counters; `jobs` as PipelineService.jobs() says."""
    files = max(files, processing)
    rate = float(jobs.get("assets_per_s") or 0.0)
    steps = {
        name: StepProgress(
            pending=(pending := int(step.get("queued", 0)) + int(step.get("running", 0))),
            failed=int(step.get("failed", 0)),
            fraction=_share(files - min(pending, files), files),
        )
        for name, step in (jobs.get("steps") or {}).items()
    }
    return LibraryProgress(
        files=files,
        processing=processing,
        fraction=_share(files - processing, files),
        per_second=rate,
        eta_seconds=round(processing / rate, 1) if processing and rate > 0 else None,
        steps=steps,
    )


def _share(part: int, whole: int) -> float:
    return round(part / whole, 4) if whole else 1.0


# Outcome counts of a step: the whole index's, from its maintained counters.
_OUTCOMES = ("done", "skipped", "failed")


def jobs_shown_to(jobs: dict[str, Any], *, sees_everything: bool) -> dict[str, Any]:
    """The pipeline's progress as a viewer is shown it: one who does not see everything gets
    how busy it is (queued, running, throughput) and no outcome counts (0): those are the
    whole index's, and told a member how many files, of which kinds, arrived in libraries
    they cannot open."""
    if sees_everything:
        return jobs
    steps = {
        name: {**step, **dict.fromkeys(_OUTCOMES, 0)}
        for name, step in (jobs.get("steps") or {}).items()
    }
    return {**jobs, "steps": steps}
