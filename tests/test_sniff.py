"""The scanner's cheap type guess (name + first bytes) against libmagic over the whole file.

The guess decides a new file's type until the `mime` step has run: it must give the same asset
type as libmagic for the formats libraries are made of, and never trust a name over content.
"""

from __future__ import annotations

import io
import json
import random
import zipfile
from pathlib import Path

import magic
import pytest
from PIL import Image

from tests.pe_media import pe_file
from tests.pipeline_media import text_pdf
from trove.config import Settings
from trove.drivers.manager import AssetDriverManager
from trove.storage.sniff import HEAD_BYTES, guess_mime


def _image(fmt: str, **options: object) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (48, 32), (200, 30, 90)).save(buffer, fmt, **options)
    return buffer.getvalue()


def _zip(names: list[str]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name in names:
            archive.writestr(name, "x")
    return buffer.getvalue()


SAMPLES = {
    "IMG_0001.jpg": lambda tmp: _image("JPEG"),
    "logo.png": lambda tmp: _image("PNG"),
    "anim.gif": lambda tmp: _image("GIF"),
    "pic.webp": lambda tmp: _image("WEBP"),
    "scan.tif": lambda tmp: _image("TIFF"),
    "report.pdf": lambda tmp: text_pdf(tmp / "x.pdf", ["Annual report"]).read_bytes(),
    "notes.txt": lambda tmp: b"Shopping list\neggs\nmilk\n",
    "README.md": lambda tmp: b"# Trove\n\nKeeps your files.\n",
    "umlauts.txt": lambda tmp: "Grüße aus Köln\n".encode("latin-1"),
    "data.json": lambda tmp: json.dumps({"a": [1, 2]}).encode(),
    "export.csv": lambda tmp: b"date,amount\n2024-01-01,3.50\n",
    "icon.svg": lambda tmp: b'<?xml version="1.0"?>\n<svg xmlns="http://www.w3.org/2000/svg"/>\n',
    "bundle.zip": lambda tmp: _zip(["a.txt", "b.txt"]),
    "setup.exe": lambda tmp: pe_file(tmp / "x.exe", strings={"ProductName": "X"}).read_bytes(),
    "empty.dat": lambda tmp: b"",
    # Names that lie: the content decides.
    "really-a-jpeg.txt": lambda tmp: _image("JPEG"),
    "photo.jpg": lambda tmp: b"not a photo at all, just words\n",
    "garbage.txt": lambda tmp: random.Random(3).randbytes(2048),
}


@pytest.fixture(scope="module")
def drivers() -> AssetDriverManager:
    return AssetDriverManager.load(Settings())


@pytest.mark.parametrize("name", sorted(SAMPLES))
def test_the_guess_gives_the_type_libmagic_gives(tmp_path: Path, drivers, name: str) -> None:
    data = SAMPLES[name](tmp_path)
    path = tmp_path / name
    path.write_bytes(data)
    strict = magic.Magic(mime=True).from_file(str(path))
    guessed = guess_mime(name, data[:HEAD_BYTES])
    assert drivers.classify(guessed, name) == drivers.classify(strict, name), (guessed, strict)
