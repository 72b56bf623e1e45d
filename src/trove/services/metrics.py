"""Prometheus metrics (`GET /metrics`), read from the index at scrape time.

The numbers come from the database, not from counters in this process: with Redis workers the
steps run in other processes (other machines, even), and the database is what they all share.
A scrape costs the same few grouped queries as `/api/dam/jobs`.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from trove import __version__

if TYPE_CHECKING:
    from prometheus_client.registry import Collector

    from trove.services.container import Services

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


def render_metrics(services: Services) -> bytes:
    from prometheus_client import CollectorRegistry, generate_latest

    registry = CollectorRegistry(auto_describe=False)
    registry.register(_collector(services))
    return generate_latest(registry)


def _collector(services: Services) -> Collector:
    from prometheus_client.registry import Collector

    class TroveCollector(Collector):
        def collect(self) -> Iterator[Any]:
            yield from _metrics(services)

    return TroveCollector()


def _metrics(services: Services) -> Iterator[Any]:
    from prometheus_client.core import GaugeMetricFamily, InfoMetricFamily

    yield InfoMetricFamily("trove", "Trove's version and set-up.", value=_info(services))
    jobs = services.library.jobs()
    queue = GaugeMetricFamily(
        "trove_pipeline_queue_depth", "Assets waiting for a step.", labels=["step"]
    )
    running = GaugeMetricFamily(
        "trove_pipeline_running", "Assets a worker is processing now.", labels=["step"]
    )
    outcomes = GaugeMetricFamily(
        "trove_pipeline_step_outcomes",
        "Assets whose current outcome of a step is ok, skipped or failed.",
        labels=["step", "outcome"],
    )
    rate = GaugeMetricFamily(
        "trove_pipeline_step_rate_per_minute",
        "Assets a step finished per minute, over the recent window.",
        labels=["step"],
    )
    cost = GaugeMetricFamily(
        "trove_pipeline_step_avg_ms", "Average time of a step, recent window.", labels=["step"]
    )
    for step, progress in jobs["steps"].items():
        queue.add_metric([step], progress["queued"])
        running.add_metric([step], progress["running"])
        for outcome in ("done", "skipped", "failed"):
            outcomes.add_metric([step, "ok" if outcome == "done" else outcome], progress[outcome])
        rate.add_metric([step], progress["per_minute"])
        if progress["avg_ms"] is not None:
            cost.add_metric([step], progress["avg_ms"])
    yield from (queue, running, outcomes, rate, cost)
    yield GaugeMetricFamily(
        "trove_assets_processing", "Assets not yet through the pipeline.", value=jobs["processing"]
    )
    online = {root["id"]: root["online"] for root in services.health.roots()}
    yield from _root_metrics(services.library.roots(), online=online)


def _root_metrics(roots: list[dict[str, Any]], *, online: dict[str, bool]) -> Iterator[Any]:
    """`online`: what health sees now (the stored status, and the folder answering), not the
    stored status alone, which waits for a scan when nothing watches the folder."""
    from prometheus_client.core import GaugeMetricFamily

    is_online = GaugeMetricFamily(
        "trove_root_online", "1 when a library is online.", labels=["root_id", "root"]
    )
    duration = GaugeMetricFamily(
        "trove_scan_duration_seconds",
        "How long the last scan of a library took.",
        labels=["root_id", "root"],
    )
    files = GaugeMetricFamily(
        "trove_scan_files", "Files the last scan of a library saw.", labels=["root_id", "root"]
    )
    finished = GaugeMetricFamily(
        "trove_scan_last_timestamp_seconds",
        "When the last scan of a library finished (Unix time).",
        labels=["root_id", "root"],
    )
    for root in roots:
        label = [root["id"], root["name"]]
        is_online.add_metric(label, 1.0 if online.get(root["id"]) else 0.0)
        scan = root.get("last_scan") or {}
        if "elapsed_s" in scan:
            duration.add_metric(label, scan["elapsed_s"])
            files.add_metric(label, scan.get("seen", 0))
        if root.get("last_scan_at") is not None:
            finished.add_metric(label, _unix(root["last_scan_at"]))
    yield from (is_online, duration, files, finished)


def _info(services: Services) -> dict[str, str]:
    settings = services.settings
    return {
        "version": __version__,
        "database": "sqlite" if settings.is_sqlite else "postgresql",
        "broker": "redis" if settings.broker_url else "in-process",
    }


def _unix(value: Any) -> float:
    from datetime import UTC, datetime

    if isinstance(value, str):
        value = datetime.fromisoformat(value.replace("Z", "+00:00"))
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return float(value.timestamp())
