"""SVG to PNG with resvg, in a throw-away child process.

resvg (Rust, via resvg-py) has no network code, runs no scripts and reads no CSS imports.
What it would still do is read local image files an SVG names (`<image href="/etc/...png">`),
so every reference that is not a fragment (`#id`) or inline `data:` is removed before it sees
the file, and it resolves what is left against an empty folder. It runs in a child process
with a CPU-time and address-space limit and a wall-clock timeout, so a pathological drawing
(huge filters, deep nesting) costs at most that and never the worker.
"""

from __future__ import annotations

import os
import re
import sys
import tempfile
from pathlib import Path

from trove.tools.run import run_tool

_EXTERNAL_URL = re.compile(rb"url\(\s*(?![\s'\"]*#)[^)]*\)", re.IGNORECASE)
_HREF = re.compile(
    rb"""\s(?:xlink:)?href\s*=\s*(?:"(?!\s*(?:#|data:))[^"]*"|'(?!\s*(?:#|data:))[^']*')""",
    re.IGNORECASE,
)
_IMPORT = re.compile(rb"@import[^;]*;?", re.IGNORECASE)
_ENTITY = re.compile(rb"<!ENTITY[^>]*>", re.IGNORECASE)
# Illustrator declares plain-text entities for namespaces; anything else could build markup.
_PLAIN_ENTITY = re.compile(rb"""<!ENTITY\s+[\w.:-]+\s+(?:"[^"<&%]*"|'[^'<&%]*')\s*>""")
MEMORY_LIMIT = 1024**3


class UnsafeSvg(ValueError):
    pass


def sanitise(svg: bytes) -> bytes:
    """The drawing without references to anything outside itself."""
    for declaration in _ENTITY.findall(svg):
        if not _PLAIN_ENTITY.fullmatch(declaration):  # external, markup-building or nested
            raise UnsafeSvg("SVG declares entities that are not plain text")
    svg = _HREF.sub(b" ", svg)
    svg = _EXTERNAL_URL.sub(b"none", svg)
    return _IMPORT.sub(b"", svg)


def rasterise(svg: bytes, *, max_side: int, timeout: float) -> bytes:
    """PNG bytes of the drawing at its own size, scaled down to fit `max_side`."""
    with tempfile.TemporaryDirectory(prefix="trove-svg-") as workdir:
        source = Path(workdir) / "in.svg"
        source.write_bytes(sanitise(svg))
        return run_tool(
            [sys.executable, "-m", "trove.tools.svg", str(source), str(max_side)],
            timeout=timeout,
            max_output=256 * 1024**2,
        )


def _child(source: str, max_side: int) -> None:
    import resource

    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_LIMIT, MEMORY_LIMIT))
    import resvg_py

    svg = Path(source).read_text("utf-8", errors="replace")
    empty = tempfile.mkdtemp(prefix="trove-svg-res-")
    natural = resvg_py.svg_to_bytes(svg_string=svg, resources_dir=empty, width=None)
    width, height = _png_size(natural)
    if max(width, height) <= max_side:
        png = natural
    elif width >= height:
        png = resvg_py.svg_to_bytes(svg_string=svg, resources_dir=empty, width=max_side)
    else:
        png = resvg_py.svg_to_bytes(svg_string=svg, resources_dir=empty, height=max_side)
    os.rmdir(empty)
    sys.stdout.buffer.write(bytes(png))


def _png_size(png: bytes | list[int]) -> tuple[int, int]:
    header = bytes(png[:24])
    return int.from_bytes(header[16:20], "big"), int.from_bytes(header[20:24], "big")


if __name__ == "__main__":
    _child(sys.argv[1], int(sys.argv[2]))
