"""Media with known content for the pipeline tests, made on the fly (Pillow, numpy, ffmpeg)."""

from __future__ import annotations

import subprocess
from pathlib import Path

import numpy as np
from PIL import ExifTags, Image, ImageDraw, ImageFont

WORDS = "Invoice Trove Harbour Seventeen Quartz"


def photo(size: tuple[int, int] = (640, 480), *, seed: int = 0) -> Image.Image:
    """Something like a photograph: smooth colour fields, a few shapes, a little noise."""
    rng = np.random.default_rng(seed)
    coarse = Image.fromarray(rng.integers(0, 256, (4, 5, 3), dtype=np.uint8), "RGB")
    image = coarse.resize(size, Image.Resampling.BICUBIC)
    draw = ImageDraw.Draw(image)
    for _ in range(6):
        x, y = int(rng.integers(0, size[0])), int(rng.integers(0, size[1]))
        r = int(rng.integers(size[0] // 12, size[0] // 4))
        colour = tuple(int(c) for c in rng.integers(0, 256, 3))
        draw.ellipse((x - r, y - r, x + r, y + r), fill=colour)
    noise = rng.normal(0, 6, (size[1], size[0], 3))
    pixels = np.clip(np.asarray(image, dtype=np.float64) + noise, 0, 255).astype(np.uint8)
    return Image.fromarray(pixels, "RGB")


def camera_exif(
    *,
    make: str = "Canon",
    model: str = "EOS 5D Mark IV",
    taken: str = "2021:07:04 15:30:45",
    lat: tuple[float, float, float, str] = (48.0, 51.0, 29.6, "N"),
    lon: tuple[float, float, float, str] = (2.0, 17.0, 40.2, "W"),
    orientation: int = 1,
) -> Image.Exif:
    exif = Image.Exif()
    exif[ExifTags.Base.Make] = make
    exif[ExifTags.Base.Model] = model
    exif[ExifTags.Base.Orientation] = orientation
    exif[ExifTags.Base.DateTime] = taken
    sub = exif.get_ifd(ExifTags.IFD.Exif)
    sub[ExifTags.Base.DateTimeOriginal] = taken
    gps = exif.get_ifd(ExifTags.IFD.GPSInfo)
    gps[ExifTags.GPS.GPSLatitudeRef] = lat[3]
    gps[ExifTags.GPS.GPSLatitude] = lat[:3]
    gps[ExifTags.GPS.GPSLongitudeRef] = lon[3]
    gps[ExifTags.GPS.GPSLongitude] = lon[:3]
    return exif


def write_photo(
    path: Path,
    *,
    size: tuple[int, int] = (640, 480),
    seed: int = 0,
    exif: Image.Exif | None = None,
    quality: int = 90,
    image: Image.Image | None = None,
) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    picture = image if image is not None else photo(size, seed=seed)
    options = {"quality": quality}
    if exif is not None:
        options["exif"] = exif.tobytes()
    picture.save(path, "JPEG", **options)
    return path


def marked(size: tuple[int, int]) -> Image.Image:
    """Grey, with a red block in the top-left corner of the *stored* pixels."""
    image = Image.new("RGB", size, (128, 128, 128))
    ImageDraw.Draw(image).rectangle((0, 0, size[0] // 5, size[1] // 5), fill=(255, 0, 0))
    return image


def text_image(path: Path, text: str = WORDS, *, size: tuple[int, int] = (1400, 500)) -> Path:
    """Black words on white paper, large enough for Tesseract."""
    path.parent.mkdir(parents=True, exist_ok=True)
    image = Image.new("RGB", size, "white")
    font = ImageFont.load_default(size=64)
    draw = ImageDraw.Draw(image)
    words = text.split()
    for row, start in enumerate(range(0, len(words), 3)):
        draw.text((60, 60 + row * 110), " ".join(words[start : start + 3]), fill="black", font=font)
    image.save(path)
    return path


def text_pdf(path: Path, lines: list[str], *, pages: int = 1) -> Path:
    """A PDF whose pages carry `lines` as real text (Helvetica), written by hand."""
    objects: list[bytes] = []
    kids = []
    page_ids = []
    font_id = 3 + 2 * pages
    for p in range(pages):
        content = (
            b"BT /F1 18 Tf 72 720 Td 24 TL "
            + b" ".join(b"(" + line.encode("latin-1") + b") '" for line in lines)
            + b" ET"
        )
        page_id, content_id = 3 + 2 * p, 4 + 2 * p
        page_ids.append(page_id)
        kids.append(f"{page_id} 0 R".encode())
        objects.append(
            f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents {content_id} 0 R"
            f" /Resources << /Font << /F1 {font_id} 0 R >> >> >>".encode()
        )
        objects.append(b"<< /Length %d >>\nstream\n" % len(content) + content + b"\nendstream")
    catalog = b"<< /Type /Catalog /Pages 2 0 R >>"
    tree = b"<< /Type /Pages /Kids [" + b" ".join(kids) + b"] /Count %d >>" % pages
    font = b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>"
    body = [catalog, tree, *objects, font]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, obj in enumerate(body, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + obj + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(body) + 1)
    for offset in offsets:
        out += b"%010d 00000 n \n" % offset
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(body) + 1, xref)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(bytes(out))
    return path


def video(
    path: Path,
    *,
    size: tuple[int, int] = (320, 240),
    seconds: float = 2.0,
    fps: int = 25,
    codec: str = "libx264",
    audio: bool = True,
    rotate: int | None = None,
) -> Path:
    """A test-pattern video with a 440 Hz tone, made by ffmpeg."""
    path.parent.mkdir(parents=True, exist_ok=True)
    cmd = [
        "ffmpeg", "-nostdin", "-v", "error", "-y",
        "-f", "lavfi", "-i", f"testsrc=size={size[0]}x{size[1]}:rate={fps}:duration={seconds}",
    ]  # fmt: skip
    if audio:
        cmd += ["-f", "lavfi", "-i", f"sine=frequency=440:duration={seconds}"]
        cmd += ["-c:a", "aac" if codec == "libx264" else "mp3"]
    cmd += ["-c:v", codec, "-pix_fmt", "yuv420p", "-shortest"]
    if rotate is None:
        subprocess.run([*cmd, str(path)], check=True, timeout=60)
        return path
    plain = path.with_name(f"plain-{path.name}")
    subprocess.run([*cmd, str(plain)], check=True, timeout=60)
    # Only a stream copy keeps the tag (as a display matrix), as a phone's file has it.
    subprocess.run(
        ["ffmpeg", "-nostdin", "-v", "error", "-y", "-i", str(plain), "-c", "copy",
         "-metadata:s:v:0", f"rotate={rotate}", str(path)],
        check=True,
        timeout=60,
    )  # fmt: skip
    plain.unlink()
    return path
