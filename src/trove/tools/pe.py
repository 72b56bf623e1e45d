"""Reading a Windows executable's version info, icon and signature presence with pefile,
in a child process held to a time and memory limit (tools/pe_child.py).

The original is opened read-only inside its root here and handed to the child as its stdin,
so the child never resolves a path; a hang is killed with its process group, a blow-up hits
the child's address-space limit, and either fails only the step that asked.
"""

from __future__ import annotations

import base64
import binascii
import json
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from trove.storage.originals import open_original
from trove.tools.run import ToolError, run_tool

MAX_ICON_BYTES = 1024**2


@dataclass(frozen=True, kw_only=True)
class PeInfo:
    fields: dict[str, Any]  # machine, version strings, signed, ... (JSON values)
    icon: bytes | None  # a PNG or a one-image .ico


def inspect_pe(path: Path, *, timeout: float, memory_mb: int) -> PeInfo:
    """What the executable at `path` says about itself, or ToolError with the reason."""
    argv = [
        sys.executable,
        "-m",
        "trove.tools.pe_child",
        str(timeout),
        str(memory_mb),
        str(MAX_ICON_BYTES),
    ]
    with open_original(path) as fd:
        out = run_tool(argv, timeout=timeout, max_output=4 * 1024**2, stdin_fd=fd)
    try:
        found = json.loads(out)
        icon = base64.b64decode(found.pop("icon")) if "icon" in found else None
    except (ValueError, binascii.Error, AttributeError) as exc:
        raise ToolError("pefile child gave unreadable output") from exc
    return PeInfo(fields=found, icon=icon)
