"""Upload benchmark: a 2 GB file sent through Trove's resumable (TUS) endpoint, against `cp`
of the same file on the same machine in the same run.

  a. TUS: creation (POST), then the whole file in one PATCH streamed from disk by `curl -T`
     (tus-js-client's default: one request per file), to a real `trove serve` on loopback.
     Timed from the creation request to the final PATCH's answer, which comes only once the
     file is placed in the upload library and registered (a 204 means stored).
  b. the baseline `cp SOURCE DEST`, DEST on the same filesystem as Trove's data folder.

Target: median TUS / median cp <= 1.5.

The file is generated in a temporary folder (a 16 MiB random block repeated: real bytes, not a
sparse file that `cp` would copy as holes). Runs alternate (cp, TUS, cp, TUS, ...) so a noisy
moment hits both sides; before each TUS run the server's indexer is idle (the previous upload's
fingerprinting is done), and every copy is removed again. The page cache holds the source for
both sides (it is read once, untimed, before the first run).

Output: the report as JSON, then a table and the target line, on stdout; the JSON is also
written to bench/results/upload-<UTC timestamp>.json. Progress goes to stderr.

    .venv/bin/python bench/upload.py [--size-mb 2048] [--repeats 3]

Exit status: 0 target met; 1 an upload failed or stored different bytes; 3 target missed.
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from _common import REPO_ROOT, filesystem_type, git_revision, machine_info, spread, write_results

sys.path.insert(0, str(REPO_ROOT))
from tests.browser.server import TroveServer, start_server

MAX_RATIO_TO_CP = 1.5
EXIT_OK, EXIT_INVALID, EXIT_TARGET_MISSED = 0, 1, 3
BLOCK = 16 * 1024 * 1024


def log(message: str) -> None:
    print(f"[upload-bench] {message}", file=sys.stderr, flush=True)


def make_file(path: Path, size: int) -> None:
    block = os.urandom(BLOCK)
    with path.open("wb") as out:
        left = size
        while left > 0:
            out.write(block[: min(left, BLOCK)])
            left -= BLOCK


def time_cp(source: Path, dest: Path) -> float:
    started = time.perf_counter()
    subprocess.run(["cp", str(source), str(dest)], check=True)
    seconds = time.perf_counter() - started
    dest.unlink()
    return seconds


def _b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


def time_tus(server: TroveServer, source: Path, name: str) -> tuple[float, str]:
    """(seconds, asset id) of one upload: creation, one PATCH with all bytes, the answer."""
    size = source.stat().st_size
    started = time.perf_counter()
    creation = urllib.request.Request(
        server.url + "/api/dam/uploads/tus/",
        method="POST",
        headers={
            "Tus-Resumable": "1.0.0",
            "Upload-Length": str(size),
            "Upload-Metadata": f"filename {_b64(name)},filetype {_b64('application/octet-stream')}",
        },
    )
    with urllib.request.urlopen(creation, timeout=60) as response:
        location = response.headers["Location"]
    patched = subprocess.run(
        [
            "curl", "-sS", "-X", "PATCH", "--fail-with-body", "-D", "-", "-o", "/dev/null",
            "-H", "Tus-Resumable: 1.0.0", "-H", "Upload-Offset: 0",
            "-H", "Content-Type: application/offset+octet-stream", "-H", "Expect:",
            "-T", str(source), location,
        ],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    seconds = time.perf_counter() - started
    if patched.returncode != 0:
        raise RuntimeError(f"PATCH failed: {patched.stdout} {patched.stderr}")
    headers = dict(line.split(": ", 1) for line in patched.stdout.splitlines() if ": " in line)
    asset_id = {k.lower(): v for k, v in headers.items()}.get("trove-asset-id", "").strip()
    return seconds, asset_id


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size-mb", type=int, default=2048)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args(argv)
    size = args.size_mb * 1024 * 1024
    with tempfile.TemporaryDirectory(prefix="trove-upload-bench-") as tmp:
        work = Path(tmp)
        source = work / "source.bin"
        log(f"generating {args.size_mb} MiB in {source}")
        make_file(source, size)
        subprocess.run(["cat", str(source)], stdout=subprocess.DEVNULL, check=True)  # cached
        data_dir = work / "data"
        server = start_server(data_dir=data_dir, roots=[], env={"TROVE_WATCH": "false"})
        try:
            cp_runs, tus_runs = [], []
            for n in range(args.repeats):
                cp_runs.append(time_cp(source, data_dir / "cp-copy.bin"))
                log(f"run {n + 1}: cp {cp_runs[-1]:.2f} s")
                server.wait_idle(timeout=600)
                seconds, asset_id = time_tus(server, source, f"upload-{n}.bin")
                stored = data_dir / "uploads" / "owner" / f"upload-{n}.bin"
                if not asset_id or stored.stat().st_size != size:
                    log(f"VALIDATION FAILED: run {n + 1} stored {stored} as {asset_id!r}")
                    return EXIT_INVALID
                tus_runs.append(seconds)
                log(f"run {n + 1}: TUS {seconds:.2f} s")
                server.wait_idle(timeout=600)
                stored.unlink()
            same = _same_bytes(source, data_dir, server)
        finally:
            server.stop()
        fs = filesystem_type(data_dir.parent)
    ratio = statistics.median(tus_runs) / statistics.median(cp_runs)
    report = {
        "benchmark": "upload",
        "size_bytes": size,
        "machine": machine_info(),
        "trove": git_revision(),
        "filesystem": fs,
        "cp": spread(cp_runs),
        "tus": spread(tus_runs),
        "tus_mb_per_s": round(size / 1e6 / statistics.median(tus_runs), 1),
        "cp_mb_per_s": round(size / 1e6 / statistics.median(cp_runs), 1),
        "ratio_tus_to_cp": round(ratio, 3),
        "target_max_ratio": MAX_RATIO_TO_CP,
        "bytes_equal": same,
    }
    path = write_results("upload", report)
    print(json.dumps(report, indent=2))
    print()
    print(f"{'':<6}{'median s':>10}{'min s':>10}{'MB/s':>10}")
    for label, runs in (("cp", cp_runs), ("TUS", tus_runs)):
        median = statistics.median(runs)
        print(f"{label:<6}{median:>10.2f}{min(runs):>10.2f}{size / 1e6 / median:>10.0f}")
    verdict = "met" if ratio <= MAX_RATIO_TO_CP else "MISSED"
    print(f"TUS / cp = {ratio:.2f} (target <= {MAX_RATIO_TO_CP}): {verdict}")
    print(f"results: {path}")
    if not same:
        return EXIT_INVALID
    return EXIT_OK if ratio <= MAX_RATIO_TO_CP else EXIT_TARGET_MISSED


def _same_bytes(source: Path, data_dir: Path, server: TroveServer) -> bool:
    """One more upload, kept, compared with the source byte for byte (cmp)."""
    _seconds, _asset_id = time_tus(server, source, "compared.bin")
    stored = data_dir / "uploads" / "owner" / "compared.bin"
    same = subprocess.run(["cmp", "-s", str(source), str(stored)]).returncode == 0
    stored.unlink()
    shutil.rmtree(data_dir / "incoming", ignore_errors=True)
    return same


if __name__ == "__main__":
    sys.exit(main())
