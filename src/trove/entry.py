"""The `trove` executable: a fast path for plain scans, Typer for everything else.

Building the Typer app costs ~120 ms (it imports rich and pydantic) — several times what `find`
needs for 10k files — so a plain `trove scan PATH... [--no-wait] [--json] [--data-dir D]` is
parsed here and runs the same `run_scan` as the Typer command. Anything else (help, a typo,
other commands) goes through Typer, which stays the one definition of the interface.
"""

from __future__ import annotations

import gc
import os
import sys
from pathlib import Path
from typing import Any

from trove.cli_support import run_scan


def main() -> None:
    try:
        fast_args = plain_scan_args(sys.argv[1:])
        if fast_args is not None:
            run_scan(**fast_args)
            # The process ends next: the interpreter's last collections would walk every
            # object still alive (~40 ms with psycopg loaded, a fifth of `find` over 100k
            # files), and frozen they are skipped. Nothing left needs collecting: run_scan
            # has closed its database connections.
            gc.freeze()
            return
        from trove.cli import app

        app()
    except KeyboardInterrupt:
        sys.stderr.write("trove: interrupted\n")
        raise SystemExit(130) from None


def plain_scan_args(argv: list[str]) -> dict[str, Any] | None:
    """The arguments of a plain `trove scan PATH... [--no-wait] [--json] [--data-dir D]`.

    Building the Typer app costs ~120 ms (it imports rich and pydantic), three times what
    `find` needs for 10k files. The everyday rescan is parsed here instead and calls the very
    same `scan` function; anything else (help, a typo, other commands) returns None and goes
    through Typer, which stays the one definition of the interface.
    """
    if not argv or argv[0] != "scan":
        return None
    parsed: dict[str, Any] = {"paths": [], "no_wait": False, "as_json": False, "data_dir": None}
    rest = iter(argv[1:])
    for arg in rest:
        if arg == "--no-wait":
            parsed["no_wait"] = True
        elif arg == "--json":
            parsed["as_json"] = True
        elif arg == "--data-dir":
            parsed["data_dir"] = Path(next(rest, "")) or None
        elif arg.startswith("--data-dir="):
            parsed["data_dir"] = Path(arg.split("=", 1)[1])
        elif arg.startswith("-") or not arg:
            return None
        else:
            parsed["paths"].append(Path(arg))
    if not parsed["paths"] or parsed["data_dir"] == Path():
        return None
    if parsed["data_dir"] is None and os.environ.get("TROVE_DATA_DIR"):
        parsed["data_dir"] = Path(os.environ["TROVE_DATA_DIR"])
    return parsed
