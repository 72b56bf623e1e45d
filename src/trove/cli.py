"""`trove` command line: each command is one call into a service.

Heavy modules (SQLAlchemy, FastAPI, the pipeline) are imported inside the commands that need
them, so `trove scan` of an unchanged tree starts in tens of milliseconds.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from trove.cli_support import clear_errors as _clear_errors
from trove.cli_support import fail as _fail
from trove.cli_support import settings_or_exit as _settings
from trove.domain.enums import AssetStatus, AssetType

if TYPE_CHECKING:
    from trove.domain.filters import AssetFilters

app = typer.Typer(
    name="trove",
    help="Index folders of files in place and serve them through a REST API and web UI.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode="markdown",
)


def _print_version(value: bool) -> None:
    if value:
        from trove import __version__

        print(f"trove {__version__}")
        raise typer.Exit()


@app.callback()
def _options(
    version: Annotated[
        bool,
        typer.Option(
            "--version", callback=_print_version, is_eager=True, help="Print the version."
        ),
    ] = False,
) -> None:
    """Index folders of files in place and serve them through a REST API and web UI."""


DataDir = Annotated[
    Path | None,
    typer.Option(
        "--data-dir", envvar="TROVE_DATA_DIR", help="Where the index, cache and uploads live."
    ),
]
AsJson = Annotated[bool, typer.Option("--json", help="Print machine-readable JSON.")]


@app.command()
def scan(
    paths: Annotated[
        list[Path], typer.Argument(help="Folders to index (each becomes a library root).")
    ],
    no_wait: Annotated[
        bool, typer.Option("--no-wait", help="Do not wait for fingerprinting.")
    ] = False,
    relocate: Annotated[
        bool,
        typer.Option(
            "--relocate",
            help="A new folder holding a library whose folder is gone: move that library "
            "there (ids, tags, albums kept) without asking.",
        ),
    ] = False,
    as_new: Annotated[
        bool,
        typer.Option("--as-new", help="Index such a folder as a library of its own instead."),
    ] = False,
    as_json: AsJson = False,
    data_dir: DataDir = None,
) -> None:
    """Index folders: new, changed and gone files are found by stat; originals are never written.

    A new folder that holds the files of a library whose folder is gone (checked on a sample
    by SHA-256) is that library moved: you are asked whether to relocate it (`--relocate`,
    `--as-new` decide without asking; without a terminal, the scan stops and says so)."""
    from trove.cli_support import run_scan

    run_scan(
        paths=paths,
        no_wait=no_wait,
        as_json=as_json,
        data_dir=data_dir,
        relocate=relocate,
        as_new=as_new,
    )


@app.command()
def status(as_json: AsJson = False, data_dir: DataDir = None) -> None:
    """Roots (online/offline, last scan) and asset counts by status and type."""
    from trove.cli_output import print_status
    from trove.domain.access import Viewer
    from trove.services.library import LibraryService

    with _clear_errors():
        library = LibraryService(_settings(data_dir=data_dir))
        print_status(library.status(viewer=Viewer.system()), as_json=as_json)


@app.command("ls")
def list_assets(
    asset_type: Annotated[
        list[str] | None,
        typer.Option("--type", help=f"One of: {', '.join(AssetType)} (repeatable)."),
    ] = None,
    status_: Annotated[
        list[str] | None,
        typer.Option("--status", help=f"One of: {', '.join(AssetStatus)} (repeatable)."),
    ] = None,
    tag: Annotated[
        list[str] | None, typer.Option("--tag", help="Only assets with this tag (repeatable).")
    ] = None,
    root: Annotated[
        str | None, typer.Option("--root", help="A library: its path, name or id.")
    ] = None,
    path: Annotated[str | None, typer.Option("--path", help="Relative folder prefix.")] = None,
    album: Annotated[
        str | None, typer.Option("--album", help="Only what this album includes (its id).")
    ] = None,
    mime: Annotated[
        str | None, typer.Option("--mime", help="MIME type, or image/* style prefix.")
    ] = None,
    q: Annotated[
        str | None,
        typer.Option(
            "--q",
            help='Search: words and filters, e.g. beach type:image -tag:x camera:"Canon EOS" '
            "taken:2023-07 near:lat,lon,km (docs/search.md).",
        ),
    ] = None,
    since: Annotated[
        str | None, typer.Option("--since", help="Timeline from this date (YYYY-MM-DD).")
    ] = None,
    until: Annotated[
        str | None, typer.Option("--until", help="Timeline through this date (YYYY-MM-DD).")
    ] = None,
    deleted: Annotated[
        bool, typer.Option("--deleted", help="List soft-deleted assets instead.")
    ] = False,
    stack: Annotated[
        bool,
        typer.Option("--stack", help="Copies of one file as one item, the preferred copy first."),
    ] = False,
    sort: Annotated[
        str | None,
        typer.Option(
            "--sort",
            help="timeline_at, filename, size, id (-KEY descends) or relevance; by default "
            "relevance when --q has words, else -timeline_at.",
        ),
    ] = None,
    limit: Annotated[int, typer.Option("--limit", help="At most this many (1-1000).")] = 100,
    cursor: Annotated[str | None, typer.Option("--cursor")] = None,
    as_json: AsJson = False,
    data_dir: DataDir = None,
) -> None:
    """List assets with the filters of GET /api/dam/assets; folders only with --type collection.

    Transcode proxies, hidden as in the API, show with --type proxy.

    Both take one filter object (domain/filters.py): the same names, values and limits."""
    from trove.cli_output import print_assets
    from trove.domain.filters import FILE_TYPES
    from trove.services.library import LibraryService

    filters = _asset_filters(
        type=asset_type or FILE_TYPES,
        status=status_ or [],
        tag=tag or [],
        root=root,
        path=path,
        album=album,
        mime=mime,
        q=q,
        since=since,
        until=until,
        deleted=deleted,
        stack=stack,
        sort=sort,
        limit=limit,
        cursor=cursor,
    )
    with _clear_errors():
        page = LibraryService(_settings(data_dir=data_dir)).list_assets(filters)
    print_assets(page, as_json=as_json)


def _asset_filters(**options: Any) -> AssetFilters:
    """The options as the API's filter object; a bad value exits 2 naming the allowed ones."""
    from pydantic import ValidationError

    from trove.domain.filters import AssetFilters

    try:
        return AssetFilters.model_validate(options)
    except ValidationError as exc:
        problems = [
            f"--{error['loc'][0]}: {str(error['msg']).removeprefix('Value error, ')}"
            for error in exc.errors()
        ]
        _fail("; ".join(dict.fromkeys(problems)))


@app.command()
def serve(
    paths: Annotated[
        list[Path] | None, typer.Argument(help="Folders to add as roots and scan.")
    ] = None,
    host: Annotated[str | None, typer.Option("--host", envvar="TROVE_HOST")] = None,
    port: Annotated[int | None, typer.Option("--port", envvar="TROVE_PORT")] = None,
    data_dir: DataDir = None,
) -> None:
    """Add roots, scan them in the background and serve the API (and UI) on 127.0.0.1:8000."""
    from trove.server import run_server

    settings = _settings(data_dir=data_dir, host=host, port=port)
    with _clear_errors():
        run_server(settings, roots=[str(p) for p in paths or []])


@app.command()
def worker(
    processes: Annotated[
        int, typer.Option("--processes", "-p", min=1, help="Worker processes to run.")
    ] = 2,
    data_dir: DataDir = None,
) -> None:
    """Run pipeline workers for the Redis broker (TROVE_BROKER_URL), until stopped.

    Start any number of them, here or on other machines that mount the same roots and cache.
    On start they pick up whatever an earlier run left pending.
    """
    from trove.services.library import LibraryService

    with _clear_errors():
        code = LibraryService(_settings(data_dir=data_dir)).run_worker(processes=processes)
    raise typer.Exit(code)


@app.command()
def reprocess(
    step: Annotated[str, typer.Option("--step", help="Pipeline step to run again.")],
    force: Annotated[
        bool, typer.Option("--force", help="Run it on every asset, not only where stale.")
    ] = False,
    no_wait: Annotated[
        bool, typer.Option("--no-wait", help="With a Redis broker: send, do not wait.")
    ] = False,
    as_json: AsJson = False,
    data_dir: DataDir = None,
) -> None:
    """Re-run one pipeline step where it is stale (never run, failed, older version)."""
    import json

    from trove.services.library import LibraryService

    with _clear_errors():
        result = LibraryService(_settings(data_dir=data_dir)).reprocess(
            step, force=force, wait=not no_wait
        )
    if as_json:
        print(json.dumps(result))
    else:
        print(f"step {step}: {result['queued']} assets sent back to the pipeline")


@app.command()
def dupes(
    root: Annotated[
        str | None, typer.Option("--root", help="Only groups with a copy in this root (id).")
    ] = None,
    as_json: AsJson = False,
    data_dir: DataDir = None,
) -> None:
    """Files with the same content (SHA-256) in several places: reported, never removed."""
    from trove.cli_output import print_duplicates
    from trove.services.dupes import DuplicateFinder

    with _clear_errors():
        report = DuplicateFinder.open(_settings(data_dir=data_dir)).report(root_id=root)
    print_duplicates(report, as_json=as_json)


@app.command()
def verify(
    mb_per_s: Annotated[
        float | None,
        typer.Option("--mb-per-s", min=0, help="Read at most this fast (0: no limit)."),
    ] = None,
    max_age_days: Annotated[
        float | None,
        typer.Option("--max-age-days", min=0, help="Only files not verified for this long."),
    ] = None,
    limit: Annotated[int | None, typer.Option("--limit", min=1, help="Files at most.")] = None,
    changed: Annotated[
        bool,
        typer.Option(
            "--changed",
            help="Only files whose ctime moved: finds files overwritten in place with the"
            " same size and date, and indexes them again.",
        ),
    ] = False,
    as_json: AsJson = False,
    data_dir: DataDir = None,
) -> None:
    """Bitrot check: re-hash files whose size and date are unchanged. A different hash means
    the bytes changed underneath (exit status 1); it is recorded, never repaired."""
    from trove.cli_output import print_verify
    from trove.services.library import LibraryService

    with _clear_errors():
        report = LibraryService(_settings(data_dir=data_dir)).verify(
            mb_per_s=mb_per_s, max_age_days=max_age_days, limit=limit, changed=changed
        )
    print_verify(report, as_json=as_json)
    if report.corrupted:
        raise typer.Exit(1)


@app.command()
def gc(
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Only say what would be removed.")
    ] = False,
    min_age: Annotated[
        float, typer.Option("--min-age", min=0, help="Keep entries younger than this (s).")
    ] = 3600.0,
    as_json: AsJson = False,
    data_dir: DataDir = None,
) -> None:
    """Remove cached previews whose content no asset has any more (never an original)."""
    from trove.cli_output import print_gc
    from trove.services.integrity import IntegrityService

    with _clear_errors():
        report = IntegrityService.open(_settings(data_dir=data_dir)).collect_garbage(
            dry_run=dry_run, min_age_s=min_age
        )
    print_gc(report, as_json=as_json)


@app.command("path")
def path_between(
    source: Annotated[str, typer.Argument(help="Id of the node to start from (asset or entity).")],
    target: Annotated[str, typer.Argument(help="Id of the node to reach.")],
    relation: Annotated[
        list[str] | None, typer.Option("--relation", help="Follow only this relation (repeat).")
    ] = None,
    max_depth: Annotated[
        int, typer.Option("--max-depth", min=1, max=10, help="At most this many links.")
    ] = 6,
    direction: Annotated[
        str, typer.Option("--direction", help="both, or out: only the way links point.")
    ] = "both",
    as_json: AsJson = False,
    data_dir: DataDir = None,
) -> None:
    """The shortest chain of links between two nodes (exit status 1 when there is none)."""
    from trove.cli_output import print_path
    from trove.domain.access import Viewer
    from trove.services.links import LinkManager, NoPath

    with _clear_errors():
        try:
            found = LinkManager.open(_settings(data_dir=data_dir)).shortest_path(
                source,
                target,
                relation,
                max_depth=max_depth,
                direction=direction,
                viewer=Viewer.system(),
            )
        except NoPath as exc:
            typer.echo(f"trove: {exc}", err=True)
            raise typer.Exit(1) from None
    print_path(found, as_json=as_json)


@app.command()
def albums(as_json: AsJson = False, data_dir: DataDir = None) -> None:
    """Every album as a tree, with how many assets each holds."""
    from trove.cli_output import print_albums
    from trove.domain.access import Viewer
    from trove.services.albums import AlbumService

    with _clear_errors():
        tree = AlbumService.open(_settings(data_dir=data_dir)).tree(viewer=Viewer.system())
    print_albums(tree, as_json=as_json)


# --- what users made ----------------------------------------------------------------------------


@app.command("export")
def export_user_data(
    out: Annotated[
        Path | None, typer.Option("--out", help="Write here (default: standard output).")
    ] = None,
    secrets: Annotated[
        bool,
        typer.Option(
            "--secrets",
            help="Also share links' tokens and password hashes (the file is then as sensitive "
            "as the database; written readable by you only).",
        ),
    ] = False,
    xmp: Annotated[
        Path | None,
        typer.Option(
            "--xmp",
            help="Instead, write XMP sidecars (tags, rating, title, description) into this "
            "folder, which must be outside every library.",
        ),
    ] = None,
    xmp_beside: Annotated[
        bool,
        typer.Option(
            "--xmp-beside",
            help="Instead, write XMP sidecars next to the originals, only in the libraries "
            "listed in TROVE_XMP_BESIDE_ROOTS.",
        ),
    ] = False,
    data_dir: DataDir = None,
) -> None:
    """Write everything people made (accounts, tags, titles, descriptions, ratings, albums,
    entities, links, web pages, notes, regions and named faces, share links) as JSON lines
    keyed by content hash and path, for `trove import`; or XMP sidecars for other tools."""
    from trove.cli_output import print_export, print_xmp
    from trove.services.user_data import UserDataService

    with _clear_errors():
        service = UserDataService.open(_settings(data_dir=data_dir))
        if xmp is not None or xmp_beside:
            print_xmp(service.export_xmp(xmp, beside_originals=xmp_beside).as_dict())
            return
        if out is None:
            written = service.export(sys.stdout, secrets=secrets)
        else:
            written = service.export_to(out, secrets=secrets)
    print_export(written, out=out)


@app.command("import")
def import_user_data(
    source: Annotated[Path, typer.Argument(help="A file `trove export` wrote.")],
    as_json: AsJson = False,
    data_dir: DataDir = None,
) -> None:
    """Put an export back into this index (rebuilt from the disk): files found by content hash,
    then by path; says what matched and what did not. Running it twice changes nothing."""
    from trove.cli_output import print_import
    from trove.services.user_data import UserDataService

    with _clear_errors():
        report = UserDataService.open(_settings(data_dir=data_dir)).import_file(source)
    print_import(report.as_dict(), as_json=as_json)


@app.command("backup")
def backup(
    out: Annotated[
        Path | None,
        typer.Option("--out", help="Write here (default: a dated file in the backup folder)."),
    ] = None,
    as_json: AsJson = False,
    data_dir: DataDir = None,
) -> None:
    """A consistent copy of the database, safe while the server is writing: SQLite's online
    backup, or pg_dump for PostgreSQL (without pg_dump: the command to run elsewhere)."""
    from trove.cli_output import print_backup
    from trove.services.backup import BackupService, PgDumpMissing

    with _clear_errors():
        try:
            result = BackupService(_settings(data_dir=data_dir)).backup(out)
        except PgDumpMissing as exc:
            _fail(str(exc), code=1)
    print_backup(result.as_dict(), as_json=as_json)


# --- accounts ----------------------------------------------------------------------------------

users_app = typer.Typer(
    help="Accounts: add (the first admin owns what is indexed), list, disable, new password.",
    no_args_is_help=True,
    rich_markup_mode="markdown",
)
tokens_app = typer.Typer(
    help="API tokens for scripts (`Authorization: Bearer`): create, list, revoke.",
    no_args_is_help=True,
    rich_markup_mode="markdown",
)
roots_app = typer.Typer(
    help="Libraries (roots): relocate one whose folder moved.",
    no_args_is_help=True,
    rich_markup_mode="markdown",
)
app.add_typer(roots_app, name="roots")
app.add_typer(users_app, name="users")
app.add_typer(tokens_app, name="tokens")


@roots_app.command("relocate")
def roots_relocate(
    old: Annotated[str, typer.Argument(help="The library: its former path, or its id.")],
    new: Annotated[Path, typer.Argument(help="Where its folder is now.")],
    no_wait: Annotated[
        bool, typer.Option("--no-wait", help="Do not wait for the rescan's processing.")
    ] = False,
    as_json: AsJson = False,
    data_dir: DataDir = None,
) -> None:
    """Point a library at the place its folder moved to, keeping every id, tag, album and
    preview. A sample of its files is compared by SHA-256 first; a mismatch refuses."""
    from trove.cli_output import print_relocated
    from trove.cli_support import ctrl_c_stops
    from trove.services.library import LibraryService

    with _clear_errors():
        service = LibraryService(_settings(data_dir=data_dir))
        done = service.relocate(old, str(new))
        with ctrl_c_stops() as stop:
            service.scan_and_process([done["new_path"]], wait=not no_wait, stop=stop)
    print_relocated(done, as_json=as_json)


@users_app.command("add")
def users_add(
    name: Annotated[str, typer.Argument(help="The user name to sign in with.")],
    admin: Annotated[bool, typer.Option("--admin", help="May manage libraries and users.")] = False,
    data_dir: DataDir = None,
) -> None:
    """Add a user. The password is asked for on the terminal, or read from the first line of
    standard input when that is not a terminal."""
    from trove.cli_support import read_password
    from trove.services.users import UserService

    password = read_password(confirm=True)
    with _clear_errors():
        user = UserService.open(_settings(data_dir=data_dir)).add_user(name, password, admin=admin)
    print(f"added {user['role']} {user['name']}")


@users_app.command("list")
def users_list(as_json: AsJson = False, data_dir: DataDir = None) -> None:
    """Every user, with role and whether disabled."""
    from trove.cli_output import print_users
    from trove.services.users import UserService

    with _clear_errors():
        users = UserService.open(_settings(data_dir=data_dir)).list_users()
    print_users(users, as_json=as_json)


@users_app.command("passwd")
def users_passwd(name: str, data_dir: DataDir = None) -> None:
    """Set a new password (read like `users add`); the user's browser sessions end."""
    from trove.cli_support import read_password
    from trove.services.users import UserService

    password = read_password(confirm=True)
    with _clear_errors():
        UserService.open(_settings(data_dir=data_dir)).set_password(name, password)
    print(f"password changed for {name}")


@users_app.command("disable")
def users_disable(name: str, data_dir: DataDir = None) -> None:
    """Disable a user: signed out everywhere, tokens refused, until enabled again."""
    from trove.services.users import UserService

    with _clear_errors():
        UserService.open(_settings(data_dir=data_dir)).set_disabled(name, disabled=True)
    print(f"disabled {name}")


@users_app.command("enable")
def users_enable(name: str, data_dir: DataDir = None) -> None:
    """Enable a disabled user again."""
    from trove.services.users import UserService

    with _clear_errors():
        UserService.open(_settings(data_dir=data_dir)).set_disabled(name, disabled=False)
    print(f"enabled {name}")


@tokens_app.command("create")
def tokens_create(
    user: Annotated[str, typer.Argument(help="Whose token: it acts as this user.")],
    scope: Annotated[
        str, typer.Option("--scope", help="read: only reads; write: reads and changes.")
    ] = "read",
    name: Annotated[str, typer.Option("--name", help="What uses it (for the list).")] = "",
    data_dir: DataDir = None,
) -> None:
    """Create an API token; it is printed once, as the last line."""
    from trove.domain.access import TokenScope
    from trove.services.users import UserService

    if scope not in {s.value for s in TokenScope}:
        _fail(f"--scope must be read or write, not {scope!r}")
    with _clear_errors():
        secret, token = UserService.open(_settings(data_dir=data_dir)).create_token(
            user, scope=TokenScope(scope), name=name
        )
    print(f"created {token['scope']} token {token['id']} for {token['user']}; it is shown once:")
    print(secret)


@tokens_app.command("list")
def tokens_list(as_json: AsJson = False, data_dir: DataDir = None) -> None:
    """Every user's API tokens (never the secrets: only their hashes are kept)."""
    from trove.cli_output import print_tokens
    from trove.domain.access import Viewer
    from trove.services.users import UserService

    with _clear_errors():
        tokens = UserService.open(_settings(data_dir=data_dir)).list_tokens(
            viewer=Viewer.system(), every_user=True
        )
    print_tokens(tokens, as_json=as_json)


@tokens_app.command("revoke")
def tokens_revoke(token_id: str, data_dir: DataDir = None) -> None:
    """Revoke a token: the next request that sends it is refused."""
    from trove.domain.access import Viewer
    from trove.services.users import UserService

    with _clear_errors():
        UserService.open(_settings(data_dir=data_dir)).revoke_token(
            token_id, viewer=Viewer.system()
        )
    print(f"revoked {token_id}")


if __name__ == "__main__":
    app()
