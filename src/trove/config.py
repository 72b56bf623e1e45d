"""Settings: one typed object, built once at an entry point and passed in.

A stdlib dataclass rather than pydantic-settings: importing pydantic-settings costs ~135 ms,
and an unchanged `trove scan` of 10k files must finish within ~60 ms of `find` (see
docs/decisions.md). Values come from, in increasing priority: defaults, a TOML file named by
`TROVE_CONFIG`, `TROVE_*` environment variables, explicit overrides (CLI options).
"""

from __future__ import annotations

import dataclasses
import os
import re
import tomllib
import types
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ENV_PREFIX = "TROVE_"


class SettingsError(ValueError):
    """A setting has a value Trove cannot use; the message names the setting."""


def _default_data_dir() -> Path:
    xdg = os.environ.get("XDG_DATA_HOME")
    base = Path(xdg) if xdg else Path.home() / ".local" / "share"
    return base / "trove"


@dataclass(frozen=True, kw_only=True)
class Settings:
    data_dir: Path = field(default_factory=_default_data_dir)
    cache_dir: Path | None = None
    upload_dir: Path | None = None
    database_url: str | None = None
    broker_url: str | None = None
    host: str = "127.0.0.1"
    port: int = 8000
    # Accounts and sign-in. Off, Trove is one user's app with no login, and is refused on any
    # address but loopback (TROVE_AUTH=off).
    auth: bool = True
    # A browser stays signed in this long (its session ends earlier on logout, a password
    # change or when the user is disabled).
    session_days: float = 30.0
    include_hidden: bool = False
    scan_batch_size: int = 2000
    hash_workers: int = 2
    max_upload_bytes: int = 50 * 1024**3
    # Bytes each user may have uploaded, unless their account sets its own (0: no limit).
    upload_quota: int = 0
    # A resumable upload not completed within this many days is dropped with its bytes.
    upload_expiry_days: int = 2
    # Media pipeline (issue 3). In-process, `pipeline_threads` batches run at once; with a
    # Redis broker each `trove worker` process runs one batch at a time.
    pipeline_threads: int = 2
    # In-process, whether those batches run in worker processes of this one (a core each)
    # instead of its threads: `auto` once thousands of files are pending (small files, whose
    # per-file work holds the interpreter lock), `on` always, `off` never (pipeline/pool.py).
    pipeline_processes: str = "auto"
    # The most assets in one batch; batches are sized by their estimated work below that
    # (pipeline/service.py: a few photos, hundreds of small files).
    pipeline_batch_size: int = 500
    # A batch whose worker stops renewing its lease for this long is handed to another worker.
    pipeline_lease_seconds: float = 60.0
    # visually_similar_to links join assets whose 64-bit pHashes differ in at most this many bits.
    similarity_distance: int = 6
    # Every external tool call is bounded in time; transcodes get their own, longer bound.
    tool_timeout_s: float = 60.0
    transcode_timeout_s: float = 1800.0
    # Size guards: larger inputs are not handed to the decoder / tool at all.
    max_image_pixels: int = 200_000_000
    max_image_bytes: int = 1024**3
    max_svg_bytes: int = 10 * 1024**2
    max_ocr_pixels: int = 40_000_000
    max_text_chars: int = 200_000
    ocr_language: str = "eng"
    webp_quality: int = 80
    # Extra plugin modules to load (comma-separated import paths), beside entry points.
    plugins: str = ""
    # Redis stream the pipeline tasks go through: Trove installs sharing one Redis each use
    # their own.
    broker_queue: str = "trove:pipeline"
    # Sync and integrity (issue 4). `trove serve` watches its roots (inotify) unless `watch`
    # is off; a file is processed once it has been quiet for `watch_debounce` seconds, or
    # `watch_settle` seconds after the writer closed it. A root that cannot be watched is
    # rescanned every `watch_fallback_interval` seconds instead; every root is rescanned by the
    # scavenger every `scavenger_interval` seconds (0: never) to catch what events missed.
    watch: bool = True
    watch_debounce: float = 1.0
    watch_settle: float = 0.2
    watch_fallback_interval: float = 300.0
    scavenger_interval: float = 3600.0
    # Bitrot check: every `verify_interval` seconds (0: never) the server re-hashes files last
    # verified more than `verify_max_age_days` ago, reading at most `verify_mb_per_s` MB/s
    # (0: unthrottled) so that it does not starve everything else of disk time.
    verify_interval: float = 3600.0
    verify_max_age_days: float = 30.0
    verify_mb_per_s: float = 20.0
    # Host names the server answers to besides the bind address and the loopback names
    # (comma-separated; `*` for any). A request for any other Host is refused: a web page
    # that rebinds its own name to this machine's address would otherwise reach the API.
    allowed_hosts: str = ""
    # Web pages on other sites allowed to call the API from the browser (exact origins such as
    # `https://dashboard.example.org`, comma-separated). Empty: CORS stays off. Such calls must
    # carry an API token: cookies are never accepted across sites.
    cors_origins: str = ""
    # Other sites' pages that may open or frame the asset picker (/picker) and receive what
    # the user picks by postMessage (exact origins such as `https://cms.example.org`,
    # comma-separated; never `*`). Empty: only Trove's own pages (docs/picker.md).
    picker_origins: str = ""
    # Folders below which a library may be added through the API (comma-separated). Unset, only
    # the command line adds libraries: an API caller could otherwise index and read any folder
    # the server can read.
    allowed_roots: str = ""
    # `text`, or `json`: one JSON object a line on stdout and in the log file, for collectors.
    log_format: str = "text"
    # After a scan or pipeline run stopped because the disk holding the index is full, it is
    # tried again every this many seconds (it succeeds once space is freed).
    disk_full_retry_interval: float = 30.0
    # Budgets for a ZIP archive indexed in place (a texture pack): more entries, more declared
    # bytes, or an entry inflating more than `zip_max_ratio` times is refused with the reason.
    zip_max_entries: int = 20_000
    zip_max_total_bytes: int = 8 * 1024**3
    zip_max_ratio: int = 200
    # pefile parses an installer in a child process held to these limits (it is known to hang
    # and to balloon on malformed files).
    pe_timeout_s: float = 20.0
    pe_memory_mb: int = 1024
    # The command an installer card's "Install" runs, as an argument list split like a shell
    # would but never run by one; `{path}` is replaced by the installer's path. Empty: the
    # action is hidden.
    install_command: str = ""
    install_timeout_s: float = 3600.0
    # Web scraper (URL assets). It fetches only public addresses; `scraper_allow_hosts`
    # (comma-separated `host` or `host:port`, `[::1]:8080` for IPv6) allows a host that is not
    # public, such as an intranet wiki. Every fetch is bounded: the page (all redirects
    # included) in `scraper_timeout_s` and `scraper_max_bytes`, each image the same; the
    # screenshot's browser in `scraper_browser_timeout_s`, with scripts stopped after
    # `scraper_script_seconds` and `scraper_browser_max_bytes` over all its requests.
    scraper_allow_hosts: str = ""
    scraper_timeout_s: float = 20.0
    scraper_max_bytes: int = 5 * 1024**2
    scraper_max_redirects: int = 5
    scraper_screenshot: bool = True
    scraper_browser_timeout_s: float = 30.0
    scraper_script_seconds: float = 5.0
    scraper_browser_max_bytes: int = 25 * 1024**2
    # The map's background tiles: a URL template such as
    # `https://tile.openstreetmap.org/{z}/{x}/{y}.png`, with the attribution its terms ask for.
    # Tiles come from the network, so it is empty by default and the map draws its markers over
    # a world outline served by Trove. Its origin is the one other place pages load images from.
    map_tiles: str = ""
    map_attribution: str = ""
    # Offline image understanding (needs the `trove[ai]` extra). Each step is off unless set:
    # it adds its cost to every photo (bench/ai.py). `ai_labels`: ImageNet labels kept when
    # their probability is at least `ai_label_threshold`, at most `ai_label_max` a photo.
    ai_labels: bool = False
    ai_label_threshold: float = 0.15
    ai_label_max: int = 5
    # `ai_faces`: faces found and described; two closer than `ai_face_distance` are taken for
    # one person when the People page groups them.
    ai_faces: bool = False
    ai_face_distance: float = 0.6
    # `ai_semantic`: what a file shows or says embedded (MiniLM), and the free-text search
    # blends that meaning with the words it matched; a file whose meaning is at least
    # `ai_semantic_min` similar to the query is found without the words.
    ai_semantic: bool = False
    ai_semantic_min: float = 0.35
    # What users made, exported by a running server every night at `export_at` (local time,
    # HH:MM) into `export_dir` (default `<data dir>/exports`), the newest `export_keep` kept
    # (0: no automatic export). These files hold share links and password hashes, like the
    # database beside them (mode 0600).
    export_keep: int = 7
    export_at: str = "03:30"
    export_dir: Path | None = None
    # `trove backup`: where copies of the database go (default `<data dir>/backups`), and how
    # long `pg_dump` may take for a PostgreSQL index.
    backup_dir: Path | None = None
    backup_timeout_s: float = 3600.0
    # Libraries (comma-separated root paths) whose owner allows `trove export --xmp-beside`
    # to write XMP sidecars next to the originals. Every other library is never written to.
    xmp_beside_roots: str = ""

    @property
    def resolved_cache_dir(self) -> Path:
        return self.cache_dir or self.data_dir / "cache"

    @property
    def resolved_upload_dir(self) -> Path:
        return self.upload_dir or self.data_dir / "uploads"

    @property
    def resolved_database_url(self) -> str:
        return self.database_url or f"sqlite:///{self.data_dir / 'trove.db'}"

    @property
    def resolved_export_dir(self) -> Path:
        return self.export_dir or self.data_dir / "exports"

    @property
    def resolved_backup_dir(self) -> Path:
        return self.backup_dir or self.data_dir / "backups"

    @property
    def xmp_beside_root_paths(self) -> tuple[Path, ...]:
        return tuple(Path(p).expanduser() for p in _comma_list(self.xmp_beside_roots))

    @property
    def allowed_host_names(self) -> tuple[str, ...]:
        return tuple(_comma_list(self.allowed_hosts.lower()))

    @property
    def cors_origin_list(self) -> tuple[str, ...]:
        return tuple(o.rstrip("/") for o in _comma_list(self.cors_origins.lower()))

    @property
    def picker_origin_list(self) -> tuple[str, ...]:
        return tuple(o.rstrip("/") for o in _comma_list(self.picker_origins.lower()))

    @property
    def map_tile_origin(self) -> str | None:
        """`scheme://host[:port]` of the tile source, when it is an http(s) URL."""
        from urllib.parse import urlsplit

        parts = urlsplit(self.map_tiles.strip())
        if parts.scheme not in ("http", "https") or not parts.netloc:
            return None
        return f"{parts.scheme}://{parts.netloc}"

    @property
    def allowed_root_paths(self) -> tuple[Path, ...]:
        return tuple(Path(p).expanduser() for p in _comma_list(self.allowed_roots))

    @property
    def is_sqlite(self) -> bool:
        return self.resolved_database_url.startswith("sqlite")


def _comma_list(text: str) -> list[str]:
    return [part.strip() for part in text.split(",") if part.strip()]


def load_settings(*, environ: typing.Mapping[str, str] | None = None, **overrides: Any) -> Settings:
    """Build Settings from the TOML file, the environment and explicit overrides."""
    environ = os.environ if environ is None else environ
    values: dict[str, Any] = {}
    config_file = environ.get(ENV_PREFIX + "CONFIG")
    if config_file:
        values.update(_read_toml(Path(config_file)))
    for f in dataclasses.fields(Settings):
        env_value = environ.get(ENV_PREFIX + f.name.upper())
        if env_value not in (None, ""):
            values[f.name] = env_value
    values.update({k: v for k, v in overrides.items() if v is not None})
    return Settings(**{name: _coerce(name, value) for name, value in values.items()})


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as fh:
            data = tomllib.load(fh)
    except OSError as exc:
        raise SettingsError(f"TROVE_CONFIG: cannot read {path}: {exc.strerror}") from exc
    except tomllib.TOMLDecodeError as exc:
        raise SettingsError(f"TROVE_CONFIG: {path} is not valid TOML: {exc}") from exc
    known = {f.name for f in dataclasses.fields(Settings)}
    unknown = sorted(set(data) - known)
    if unknown:
        raise SettingsError(f"TROVE_CONFIG: unknown setting(s) in {path}: {', '.join(unknown)}")
    return data


_TYPES = typing.get_type_hints(Settings)


def _coerce(name: str, value: Any) -> Any:
    if name not in _TYPES:
        raise SettingsError(f"unknown setting {name!r}")
    target = _TYPES[name]
    if isinstance(target, types.UnionType):  # `X | None`
        target = next(t for t in typing.get_args(target) if t is not type(None))
    try:
        if target is bool and isinstance(value, str):
            return _parse_bool(value)
        if isinstance(value, bool) and target is not bool:
            raise TypeError("a boolean is not a number or text")
        if target is Path:
            return Path(value).expanduser()
        coerced = target(value)
    except (TypeError, ValueError) as exc:
        raise SettingsError(
            f"{ENV_PREFIX}{name.upper()}: {value!r} is not a valid {target.__name__}"
        ) from exc
    if name in _CHECKS and not _CHECKS[name](coerced):
        raise SettingsError(f"{ENV_PREFIX}{name.upper()}: {value!r} is not valid")
    if name in _CHOICES and coerced not in _CHOICES[name]:
        choices = " or ".join(_CHOICES[name])
        raise SettingsError(f"{ENV_PREFIX}{name.upper()}: {value!r} is not {choices}")
    low, high = _BOUNDS.get(name, (None, None))
    if (low is not None and coerced < low) or (high is not None and coerced > high):
        raise SettingsError(f"{ENV_PREFIX}{name.upper()}: {value!r} is outside {low}..{high or ''}")
    return coerced


_CHOICES: dict[str, tuple[str, ...]] = {
    "log_format": ("text", "json"),
    "pipeline_processes": ("auto", "on", "off"),
}

# Numeric settings that only make sense within a range (None: unbounded on that side).
_BOUNDS: dict[str, tuple[float | None, float | None]] = {
    "port": (1, 65535),
    "ai_label_threshold": (0.0, 1.0),
    "ai_label_max": (1, 50),
    "ai_face_distance": (0.05, 2.0),
    "ai_semantic_min": (-1.0, 1.0),
    "scan_batch_size": (1, 100_000),
    "hash_workers": (1, 256),
    "max_upload_bytes": (1, None),
    "upload_quota": (0, None),
    "upload_expiry_days": (1, 365),
    "watch_debounce": (0.01, 3600),
    "watch_settle": (0.0, 3600),
    "watch_fallback_interval": (1, None),
    "scavenger_interval": (0, None),
    "verify_interval": (0, None),
    "verify_max_age_days": (0, None),
    "verify_mb_per_s": (0, None),
    "disk_full_retry_interval": (0.1, None),
    "zip_max_entries": (1, None),
    "zip_max_total_bytes": (1, None),
    "zip_max_ratio": (1, None),
    "pe_timeout_s": (0.1, 3600),
    "pe_memory_mb": (64, None),
    "install_timeout_s": (1, None),
    "scraper_timeout_s": (0.1, 3600),
    "scraper_max_bytes": (1024, None),
    "scraper_max_redirects": (0, 20),
    "scraper_browser_timeout_s": (1, 3600),
    "scraper_script_seconds": (0.1, 3600),
    "scraper_browser_max_bytes": (1024, None),
    "session_days": (0.001, 3650),
    "export_keep": (0, 10_000),
    "backup_timeout_s": (1, None),
}


# `host`, `host:port`, `[v6]` or `[v6]:port`; the scraper's policy reads them in full.
_HOST_PORT = re.compile(r"^(\[[0-9a-fA-F:.]+\]|[^\s:\[\]/@]+)(:\d{1,5})?$")


def _host_list(text: str) -> bool:
    entries = _comma_list(text)
    return all(
        (match := _HOST_PORT.match(entry)) and int((match.group(2) or ":1")[1:]) <= 65535
        for entry in entries
    )


# `scheme://host[:port]`: what a browser names in `Origin` (no path, no wildcard).
_ORIGIN = re.compile(r"^https?://(\[[0-9a-fA-F:.]+\]|[^\s:\[\]/@*]+)(:\d{1,5})?/?$")


def _origin_list(text: str) -> bool:
    return all(_ORIGIN.match(entry) for entry in _comma_list(text.lower()))


# Text settings with a syntax of their own.
_CHECKS: dict[str, typing.Callable[[Any], bool]] = {
    "scraper_allow_hosts": _host_list,
    "picker_origins": _origin_list,
    "export_at": lambda text: re.fullmatch(r"([01]?\d|2[0-3]):[0-5]\d", text) is not None,
}


def _parse_bool(text: str) -> bool:
    lowered = text.strip().lower()
    if lowered in {"1", "true", "yes", "on"}:
        return True
    if lowered in {"0", "false", "no", "off"}:
        return False
    raise ValueError(text)
