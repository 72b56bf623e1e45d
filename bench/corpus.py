"""Generate a realistic, deterministic photo library for Trove's benchmarks.

Usage as a module::

    from corpus import generate
    summary = generate(Path("/tmp/lib"), 10_000, profile="light", seed=0)

and as a CLI::

    python bench/corpus.py OUT_DIR --count N [--profile mixed|photos|light|text|small]
                           [--photo-size 12mp|small|tiny] [--seed S] [--json]

Why templates: encoding 100,000 distinct JPEGs would take many minutes, while a scan benchmark
needs realistic *files* (valid formats, EXIF, a believable folder tree, distinct content) far
more than distinct *pixels*. So a few dozen real files are made per kind, and every corpus file
is one of them plus a few unique bytes put where its format allows them (a JPEG COM segment, a
PNG tEXt chunk, an MP4 `free` box, a ZIP comment, ...). Every file thus has its own SHA-256 and
is still a well-formed file for libmagic, exiftool and decoders.

Everything derives from the seed: the same seed gives the same paths, bytes and mtimes.
"""

from __future__ import annotations

import argparse
import dataclasses
import io
import json
import os
import random
import shutil
import struct
import subprocess
import sys
import tempfile
import time
import zipfile
import zlib
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from PIL import ExifTags, Image, ImageChops, ImageDraw, ImageFilter
from PIL.TiffImagePlugin import IFDRational

# Bump when the bytes or layout for a given (profile, count, seed) change, so that cached
# corpora (see `ensure_cached`) are regenerated instead of silently reused.
GENERATOR_VERSION = 1

DEFAULT_CACHE_DIR = Path(__file__).resolve().parent / ".corpus"

JPEG, PNG, VIDEO, PDF, ZIP, OTHER = "jpeg", "png", "video", "pdf", "zip", "other"
TEXT = "text"  # notes, READMEs, CSV and JSON only: the small-files profiles
KINDS = (JPEG, PNG, VIDEO, PDF, ZIP, OTHER, TEXT)

DEFAULT_MIX: Mapping[str, float] = {
    JPEG: 0.80,
    PNG: 0.08,
    VIDEO: 0.01,
    PDF: 0.03,
    ZIP: 0.02,
    OTHER: 0.06,
}

PHOTO_SIZES: Mapping[str, tuple[int, int]] = {
    "12mp": (4000, 3000),
    "small": (640, 480),
    "tiny": (64, 48),
}

# A few dozen distinct originals per kind is enough variety for format sniffing, thumbnailing
# and EXIF code paths; videos cost an ffmpeg run each, so fewer of them.
TEMPLATES_PER_KIND = 24
VIDEO_TEMPLATES = 8

STAMP_LABEL = b"trove-bench "


class CorpusError(Exception):
    """The corpus cannot be generated as asked; the message says why and what to do."""


@dataclass(frozen=True, kw_only=True)
class Profile:
    """How heavy the files are. The layout and the mix rules are the same for every profile,
    so a scan benchmark on `light` walks the same kind of tree a real library has."""

    name: str
    mix: Mapping[str, float]
    photo_size: str
    image_size: tuple[int, int]
    video_size: tuple[int, int]
    video_seconds: Sequence[int]
    pdf_pages: tuple[int, int] = (1, 3)


PROFILES: Mapping[str, Profile] = {
    "mixed": Profile(
        name="mixed",
        mix=DEFAULT_MIX,
        photo_size="small",
        image_size=(800, 600),
        video_size=(320, 240),
        video_seconds=(1, 2),
    ),
    "light": Profile(
        name="light",
        mix=DEFAULT_MIX,
        photo_size="tiny",
        image_size=(64, 48),
        video_size=(64, 48),
        video_seconds=(1,),
    ),
    "photos": Profile(
        name="photos",
        mix={JPEG: 1.0},
        photo_size="12mp",
        image_size=(800, 600),
        video_size=(320, 240),
        video_seconds=(1, 2),
    ),
    # Small files, where per-file overhead rather than decoding is the cost: a documents,
    # code or notes library. `text` is text only; `small` adds one-page PDFs and small PNGs.
    "text": Profile(
        name="text",
        mix={TEXT: 1.0},
        photo_size="tiny",
        image_size=(64, 48),
        video_size=(64, 48),
        video_seconds=(1,),
    ),
    "small": Profile(
        name="small",
        mix={TEXT: 0.90, PDF: 0.05, PNG: 0.05},
        photo_size="tiny",
        image_size=(320, 240),
        video_size=(64, 48),
        video_seconds=(1,),
        pdf_pages=(1, 1),
    ),
}


# --------------------------------------------------------------------------------------------
# Templates: a real file, split at the place where unique bytes may go.
# --------------------------------------------------------------------------------------------

EXIF_DATE_PLACEHOLDER = b"1999:12:31 23:59:59"  # same length as every EXIF date: no offset moves


@dataclass(frozen=True, kw_only=True)
class Template:
    """One real file of a kind: `prefix + stamp(tag) + suffix` is always a valid file.

    `name_pattern` is formatted with the file's `index` and `when` (a datetime), so names look
    like the ones cameras and apps produce and are unique within the corpus.
    """

    kind: str
    name_pattern: str
    prefix: bytes
    suffix: bytes
    stamp: Callable[[bytes], bytes]
    has_exif_dates: bool = False

    def render(self, *, tag: bytes, when: datetime) -> bytes:
        prefix = self.prefix
        if self.has_exif_dates:
            prefix = prefix.replace(EXIF_DATE_PLACEHOLDER, exif_date(when))
        return prefix + self.stamp(tag) + self.suffix

    def file_name(self, *, index: int, when: datetime) -> str:
        return self.name_pattern.format(index=index, when=when)


def exif_date(when: datetime) -> bytes:
    return when.strftime("%Y:%m:%d %H:%M:%S").encode("ascii")


def jpeg_comment_segment(tag: bytes) -> bytes:
    payload = STAMP_LABEL + tag
    return b"\xff\xfe" + struct.pack(">H", len(payload) + 2) + payload


def png_text_chunk(tag: bytes) -> bytes:
    body = b"Comment\x00" + STAMP_LABEL + tag
    crc = zlib.crc32(b"tEXt" + body)
    return struct.pack(">I", len(body)) + b"tEXt" + body + struct.pack(">I", crc)


def isobmff_free_box(tag: bytes) -> bytes:
    payload = STAMP_LABEL + tag
    return struct.pack(">I", len(payload) + 8) + b"free" + payload


def zip_comment(tag: bytes) -> bytes:
    """The end-of-central-directory record ends with the comment length and the comment."""
    comment = STAMP_LABEL + tag
    return struct.pack("<H", len(comment)) + comment


def gif_comment_extension(tag: bytes) -> bytes:
    payload = STAMP_LABEL + tag
    return b"\x21\xfe" + bytes([len(payload)]) + payload + b"\x00"


def pdf_comment(tag: bytes) -> bytes:
    return b"% " + STAMP_LABEL + tag + b"\n"


def text_line(tag: bytes) -> bytes:
    return STAMP_LABEL + tag + b"\n"


def xml_comment(tag: bytes) -> bytes:
    return b"<!-- " + STAMP_LABEL + tag + b" -->\n"


def json_member(tag: bytes) -> bytes:
    return b',\n  "bench_id": "' + tag + b'"\n'


def csv_row(tag: bytes) -> bytes:
    return b"1970-01-01,0.00," + STAMP_LABEL + tag + b",bench\n"


# --------------------------------------------------------------------------------------------
# Pixels: cheap images that still compress like the real thing.
# --------------------------------------------------------------------------------------------


def random_colour(rng: random.Random, *, muted: bool = True) -> tuple[int, int, int]:
    """Muted colours look more like photos than saturated ones and compress more like them."""
    if not muted:
        return (rng.randrange(256), rng.randrange(256), rng.randrange(256))
    base = rng.randrange(40, 200)
    return tuple(max(0, min(255, base + rng.randint(-50, 50))) for _ in range(3))  # type: ignore[return-value]


def noise_layer(
    size: tuple[int, int], rng: random.Random, *, amplitude: int, grain: int
) -> Image.Image:
    """Seeded RGB noise in 0..amplitude; `grain` > 1 makes blotchy texture instead of sensor
    grain. Seeded bytes rather than `Image.effect_noise`, whose C `rand()` is not seedable."""
    w, h = max(1, size[0] // grain), max(1, size[1] // grain)
    planes = [
        Image.frombytes("L", (w, h), rng.randbytes(w * h)).point(lambda v: v * amplitude // 255)
        for _ in range(3)
    ]
    layer = Image.merge("RGB", planes)
    return layer if grain == 1 else layer.resize(size, Image.Resampling.BICUBIC)


def photographic_image(size: tuple[int, int], rng: random.Random) -> Image.Image:
    """Gradient sky, soft shapes, texture and grain: flat colour would make 12 MP JPEGs of a
    few hundred KB, and pipeline benchmarks need the ~4 MB files a camera really writes."""
    w, h = size
    gradient = Image.linear_gradient("L").resize(size)
    top, bottom = random_colour(rng), random_colour(rng)
    base = Image.merge(
        "RGB",
        [
            gradient.point(lambda v, a=a, b=b: a + (b - a) * v // 255)
            for a, b in zip(top, bottom, strict=True)
        ],
    )
    draw = ImageDraw.Draw(base)
    for _ in range(rng.randint(8, 20)):
        colour = random_colour(rng)
        if rng.random() < 0.5:
            x, y = rng.randrange(w), rng.randrange(h)
            r = rng.randint(max(1, w // 30), max(2, w // 4))
            draw.ellipse((x - r, y - r, x + r, y + r), fill=colour)
        else:
            points = [(rng.randrange(w), rng.randrange(h)) for _ in range(rng.randint(3, 6))]
            draw.polygon(points, fill=colour)
    small = (max(1, w // 8), max(1, h // 8))
    base = (
        base.resize(small)
        .filter(ImageFilter.GaussianBlur(2))
        .resize(size, Image.Resampling.BICUBIC)
    )
    texture, grain = 80, 20
    base = ImageChops.add(
        base, noise_layer(size, rng, amplitude=texture, grain=6), 1.0, -texture // 2
    )
    return ImageChops.add(base, noise_layer(size, rng, amplitude=grain, grain=1), 1.0, -grain // 2)


def screenshot_image(size: tuple[int, int], rng: random.Random) -> Image.Image:
    """Flat UI-like areas and text: what most PNGs in a personal library are."""
    w, h = size
    dark = rng.random() < 0.3
    background = (30, 30, 34) if dark else (246, 246, 248)
    ink = (220, 220, 220) if dark else (30, 30, 30)
    image = Image.new("RGB", size, background)
    draw = ImageDraw.Draw(image)
    bar = max(2, h // 14)
    draw.rectangle((0, 0, w, bar), fill=random_colour(rng, muted=False))
    sidebar = rng.randint(w // 6, w // 3)
    draw.rectangle((0, bar, sidebar, h), fill=(45, 45, 50) if dark else (225, 228, 232))
    line_height = max(3, h // 30)
    y = bar + line_height
    while y < h - line_height:
        draw.text((sidebar + line_height, y), " ".join(words(rng, 4, 9)), fill=ink)
        y += line_height * rng.choice((1, 1, 2))
    for _ in range(rng.randint(0, 3)):
        x0, y0 = rng.randrange(sidebar, w), rng.randrange(bar, h)
        draw.rectangle((x0, y0, x0 + w // 6, y0 + h // 10), fill=random_colour(rng, muted=False))
    return image


def graphic_image(size: tuple[int, int], rng: random.Random) -> Image.Image:
    """Shapes on a transparent background: diagrams, logos, icons exported as PNG."""
    w, h = size
    image = Image.new("RGBA", size, (0, 0, 0, 0))
    draw = ImageDraw.Draw(image)
    for _ in range(rng.randint(3, 10)):
        x0, y0 = rng.randrange(w), rng.randrange(h)
        x1, y1 = x0 + rng.randint(1, max(1, w // 3)), y0 + rng.randint(1, max(1, h // 3))
        fill = (*random_colour(rng, muted=False), rng.choice((255, 255, 180)))
        if rng.random() < 0.5:
            draw.rectangle((x0, y0, x1, y1), fill=fill)
        else:
            draw.ellipse((x0, y0, x1, y1), fill=fill)
    return image


WORDS = (  # noqa: SIM905 - a word list reads best as words
    "album archive beach birthday camera canal cloud coffee dinner export family festival "
    "garden harbour hike holiday invoice kitchen lake letter market meeting mountain "
    "museum notes old paper park picnic project receipt river road school sea snow station "
    "street summer sunset tax ticket train trip village visit walk wedding winter work"
).split()


def words(rng: random.Random, low: int, high: int) -> list[str]:
    return [rng.choice(WORDS) for _ in range(rng.randint(low, high))]


def sentence(rng: random.Random) -> str:
    return " ".join(words(rng, 5, 14)).capitalize() + "."


def random_moment(rng: random.Random, first_year: int, last_year: int) -> datetime:
    start = datetime(first_year, 1, 1, tzinfo=UTC)
    span = datetime(last_year + 1, 1, 1, tzinfo=UTC) - start
    return start + timedelta(seconds=rng.randrange(int(span.total_seconds())))


# --------------------------------------------------------------------------------------------
# Template builders, one per kind. Each takes its own seeded rng so that building them in a
# thread pool stays deterministic.
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Camera:
    make: str | None
    model: str | None
    name_pattern: str
    gps_chance: float
    phone: bool


CAMERAS = (
    Camera("Apple", "iPhone 13 Pro", "IMG_{index:06d}.JPG", 0.9, True),
    Camera("Google", "Pixel 7", "PXL_{when:%Y%m%d_%H%M%S}_{index:06d}.jpg", 0.9, True),
    Camera("samsung", "SM-S911B", "{when:%Y%m%d_%H%M%S}_{index:06d}.jpg", 0.8, True),
    Camera("Canon", "Canon EOS R6", "IMG_{index:06d}.JPG", 0.0, False),
    Camera("SONY", "ILCE-7M3", "DSC{index:06d}.JPG", 0.1, False),
    Camera("FUJIFILM", "X-T4", "DSCF{index:06d}.JPG", 0.0, False),
    Camera("NIKON CORPORATION", "NIKON Z 6", "DSC_{index:06d}.JPG", 0.0, False),
    Camera("DJI", "FC3170", "DJI_{index:06d}.JPG", 1.0, False),
    # Messenger exports strip EXIF: a library has some JPEGs without any.
    Camera(None, None, "IMG-{when:%Y%m%d}-WA{index:06d}.jpeg", 0.0, True),
)

PLACES = (
    (52.3731, 4.8922),  # Amsterdam
    (38.7223, -9.1393),  # Lisbon
    (35.0116, 135.7681),  # Kyoto
    (40.7128, -74.0060),  # New York
    (-33.9249, 18.4241),  # Cape Town
    (-33.8688, 151.2093),  # Sydney
    (64.1466, -21.9426),  # Reykjavik
    (-34.6037, -58.3816),  # Buenos Aires
    (46.5586, 7.9890),  # Lauterbrunnen
    (59.9139, 10.7522),  # Oslo
)


def degrees_minutes_seconds(value: float) -> tuple[IFDRational, IFDRational, IFDRational]:
    """EXIF GPS coordinates are three unsigned rationals; the sign goes in the *Ref tag."""
    hundredths = round(abs(value) * 360_000)
    degrees, rest = divmod(hundredths, 360_000)
    minutes, seconds = divmod(rest, 6_000)
    return IFDRational(degrees, 1), IFDRational(minutes, 1), IFDRational(seconds, 100)


def camera_exif(camera: Camera, size: tuple[int, int], rng: random.Random) -> Image.Exif:
    exif = Image.Exif()
    exif[ExifTags.Base.Make] = camera.make
    exif[ExifTags.Base.Model] = camera.model
    orientations, weights = (
        ((1, 6, 3, 8), (70, 20, 5, 5)) if camera.phone else ((1, 6, 8), (80, 10, 10))
    )
    exif[ExifTags.Base.Orientation] = rng.choices(orientations, weights)[0]
    exif[ExifTags.Base.DateTime] = EXIF_DATE_PLACEHOLDER.decode()
    exif[ExifTags.Base.Software] = "trove-bench"

    details = exif.get_ifd(ExifTags.IFD.Exif)
    details[ExifTags.Base.DateTimeOriginal] = EXIF_DATE_PLACEHOLDER.decode()
    details[ExifTags.Base.DateTimeDigitized] = EXIF_DATE_PLACEHOLDER.decode()
    details[ExifTags.Base.ExifImageWidth] = size[0]
    details[ExifTags.Base.ExifImageHeight] = size[1]
    details[ExifTags.Base.FNumber] = IFDRational(rng.choice((18, 28, 40, 56, 80)), 10)
    details[ExifTags.Base.ExposureTime] = IFDRational(1, rng.choice((60, 125, 250, 500, 1000)))
    details[ExifTags.Base.ISOSpeedRatings] = rng.choice((100, 200, 400, 800, 1600, 3200))
    details[ExifTags.Base.FocalLength] = IFDRational(rng.choice((24, 35, 50, 85)), 1)

    if rng.random() < camera.gps_chance:
        lat, lon = rng.choice(PLACES)
        lat += rng.uniform(-0.05, 0.05)
        lon += rng.uniform(-0.05, 0.05)
        gps = exif.get_ifd(ExifTags.IFD.GPSInfo)
        gps[ExifTags.GPS.GPSVersionID] = b"\x02\x02\x00\x00"
        gps[ExifTags.GPS.GPSLatitudeRef] = "N" if lat >= 0 else "S"
        gps[ExifTags.GPS.GPSLatitude] = degrees_minutes_seconds(lat)
        gps[ExifTags.GPS.GPSLongitudeRef] = "E" if lon >= 0 else "W"
        gps[ExifTags.GPS.GPSLongitude] = degrees_minutes_seconds(lon)
    return exif


def jpeg_header_end(data: bytes) -> int:
    """Offset just past SOI and the APPn segments (JFIF, Exif): a COM segment placed there
    keeps APP1 where strict readers look for it and precedes the image data."""
    offset = 2
    while data[offset] == 0xFF and 0xE0 <= data[offset + 1] <= 0xEF:
        (length,) = struct.unpack(">H", data[offset + 2 : offset + 4])
        offset += 2 + length
    return offset


def build_jpeg_template(rng: random.Random, profile: Profile) -> Template:
    size = PHOTO_SIZES[profile.photo_size]
    camera = rng.choice(CAMERAS)
    image = photographic_image(size, rng)
    buffer = io.BytesIO()
    options: dict = {"quality": rng.choice((89, 90, 91, 92)), "dpi": (72, 72)}
    if camera.make is not None:
        options["exif"] = camera_exif(camera, size, rng)
    image.save(buffer, "JPEG", **options)
    data = buffer.getvalue()
    split = jpeg_header_end(data)
    return Template(
        kind=JPEG,
        name_pattern=camera.name_pattern,
        prefix=data[:split],
        suffix=data[split:],
        stamp=jpeg_comment_segment,
        has_exif_dates=camera.make is not None,
    )


PNG_STYLES = (
    ("Screenshot {when:%Y-%m-%d at %H.%M.%S} {index:06d}.png", screenshot_image),
    ("Screenshot_{when:%Y%m%d-%H%M%S}_{index:06d}.png", screenshot_image),
    ("diagram-{index:06d}.png", graphic_image),
    ("logo-{index:06d}.png", graphic_image),
)

PNG_IEND = b"\x00\x00\x00\x00IEND\xaeB`\x82"


def build_png_template(rng: random.Random, profile: Profile) -> Template:
    name_pattern, draw = rng.choice(PNG_STYLES)
    buffer = io.BytesIO()
    draw(profile.image_size, rng).save(buffer, "PNG")
    data = buffer.getvalue()
    assert data.endswith(PNG_IEND), "Pillow is expected to end a PNG with a bare IEND chunk"
    return Template(
        kind=PNG,
        name_pattern=name_pattern,
        prefix=data[: -len(PNG_IEND)],
        suffix=PNG_IEND,
        stamp=png_text_chunk,
    )


def build_video_template(rng: random.Random, profile: Profile) -> Template:
    """A second or two of an ffmpeg test pattern: real H.264 in MP4 or QuickTime."""
    quicktime = rng.random() < 0.25
    seconds = rng.choice(profile.video_seconds)
    width, height = profile.video_size
    source = rng.choice(("testsrc", "testsrc2", "smptebars"))
    rate = rng.choice((15, 24, 30))
    with_audio = rng.random() < 0.5
    when = random_moment(rng, 2015, 2024)
    command = ["ffmpeg", "-nostdin", "-hide_banner", "-loglevel", "error", "-f", "lavfi"]
    command += ["-i", f"{source}=duration={seconds}:size={width}x{height}:rate={rate}"]
    if with_audio:
        frequency = rng.choice((220, 440, 880))
        command += ["-f", "lavfi", "-i", f"sine=frequency={frequency}:duration={seconds}"]
        command += ["-c:a", "aac", "-b:a", "48k"]
    command += ["-c:v", "libx264", "-preset", "veryfast", "-crf", "30", "-pix_fmt", "yuv420p"]
    command += ["-threads", "1", "-fflags", "+bitexact", "-flags", "+bitexact"]
    command += ["-metadata", f"creation_time={when:%Y-%m-%dT%H:%M:%S}Z", "-movflags", "+faststart"]
    suffix = ".mov" if quicktime else ".mp4"
    with tempfile.TemporaryDirectory(prefix="trove-bench-video-") as tmp:
        out = Path(tmp) / f"clip{suffix}"
        result = subprocess.run([*command, str(out)], capture_output=True, text=True)
        if result.returncode != 0:
            raise CorpusError(f"ffmpeg failed making a video template: {result.stderr.strip()}")
        data = out.read_bytes()
    name_pattern = (
        "IMG_{index:06d}.MOV" if quicktime else "VID_{when:%Y%m%d_%H%M%S}_{index:06d}.mp4"
    )
    return Template(
        kind=VIDEO, name_pattern=name_pattern, prefix=data, suffix=b"", stamp=isobmff_free_box
    )


def pdf_escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")


def text_pdf(pages: Sequence[Sequence[str]], *, title: str) -> tuple[bytes, bytes]:
    """A minimal but valid PDF 1.4 with real text, as (body up to `startxref`, tail).

    Written by hand because Pillow can only make image PDFs, and a text layer is what later
    text-extraction plugins must find. Split before `startxref` so that a comment can go there
    without moving any offset the xref table records.
    """
    first_page = 5
    page_ids = [first_page + 2 * n for n in range(len(pages))]
    kids = " ".join(f"{page_id} 0 R" for page_id in page_ids)
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        f"<< /Type /Pages /Kids [{kids}] /Count {len(pages)} >>".encode(),
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
        f"<< /Title ({pdf_escape(title)}) /Producer (trove-bench) >>".encode(),
    ]
    for page_id, lines in zip(page_ids, pages, strict=True):
        objects.append(
            f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] "
            f"/Resources << /Font << /F1 3 0 R >> >> /Contents {page_id + 1} 0 R >>".encode()
        )
        shown = " ".join(f"({pdf_escape(line)}) Tj T*" for line in lines)
        content = f"BT /F1 11 Tf 14 TL 72 770 Td {shown} ET".encode()
        objects.append(b"<< /Length %d >>\nstream\n" % len(content) + content + b"\nendstream")

    body = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, obj in enumerate(objects, start=1):
        offsets.append(len(body))
        body += b"%d 0 obj\n" % number + obj + b"\nendobj\n"
    xref_offset = len(body)
    body += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    body += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    body += b"trailer\n<< /Size %d /Root 1 0 R /Info 4 0 R >>\n" % (len(objects) + 1)
    return bytes(body), b"startxref\n%d\n%%%%EOF\n" % xref_offset


def split_before_startxref(data: bytes) -> tuple[bytes, bytes]:
    split = data.rindex(b"startxref")
    return data[:split], data[split:]


PDF_NAMES = (
    "invoice-{index:06d}.pdf",
    "letter-{index:06d}.pdf",
    "manual-{index:06d}.pdf",
    "statement-{when:%Y-%m}-{index:06d}.pdf",
    "ticket-{index:06d}.pdf",
)


def build_pdf_template(rng: random.Random, profile: Profile) -> Template:
    """Mostly text PDFs; a quarter are image-only 'scans', as a real documents folder has."""
    name_pattern = rng.choice(PDF_NAMES)
    if rng.random() < 0.25:
        buffer = io.BytesIO()
        stamp = random_moment(rng, 2015, 2024).timetuple()  # Pillow would use the clock
        image = screenshot_image(profile.image_size, rng).convert("L")
        image.save(buffer, "PDF", resolution=100, title="Scan", creationDate=stamp, modDate=stamp)
        prefix, suffix = split_before_startxref(buffer.getvalue())
    else:
        pages = [
            [sentence(rng) for _ in range(rng.randint(5, 40))]
            for _ in range(rng.randint(*profile.pdf_pages))
        ]
        prefix, suffix = text_pdf(pages, title=" ".join(words(rng, 2, 5)).title())
    return Template(
        kind=PDF, name_pattern=name_pattern, prefix=prefix, suffix=suffix, stamp=pdf_comment
    )


ZIP_NAMES = (
    "backup-{when:%Y-%m-%d}-{index:06d}.zip",
    "photos-export-{index:06d}.zip",
    "project-files-{index:06d}.zip",
)


def build_zip_template(rng: random.Random, profile: Profile) -> Template:
    when = random_moment(rng, 2015, 2024)
    stamp = (when.year, when.month, when.day, when.hour, when.minute, when.second)
    png = io.BytesIO()
    screenshot_image(profile.image_size, rng).save(png, "PNG")
    members = {
        "README.txt": "\n".join(sentence(rng) for _ in range(rng.randint(3, 30))).encode(),
        "data/export.csv": csv_text(rng),
        "images/preview.png": png.getvalue(),
    }
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in members.items():
            info = zipfile.ZipInfo(name, date_time=stamp)
            info.compress_type = rng.choice((zipfile.ZIP_DEFLATED, zipfile.ZIP_STORED))
            archive.writestr(info, data)
    data = buffer.getvalue()
    assert data[-22:-18] == b"PK\x05\x06" and data[-2:] == b"\x00\x00", "expected an empty comment"
    return Template(
        kind=ZIP,
        name_pattern=rng.choice(ZIP_NAMES),
        prefix=data[:-2],
        suffix=b"",
        stamp=zip_comment,
    )


def csv_text(rng: random.Random) -> bytes:
    rows = ["date,amount,description,category"]
    for _ in range(rng.randint(5, 60)):
        when = random_moment(rng, 2018, 2024)
        rows.append(
            f"{when:%Y-%m-%d},{rng.uniform(1, 500):.2f},{' '.join(words(rng, 1, 4))},"
            f"{rng.choice(WORDS)}"
        )
    return ("\n".join(rows) + "\n").encode()


def other_template(name_pattern: str, content: bytes, stamp: Callable[[bytes], bytes]) -> Template:
    """A text-like file whose stamp is simply appended."""
    return Template(kind=OTHER, name_pattern=name_pattern, prefix=content, suffix=b"", stamp=stamp)


def text_note(rng: random.Random) -> Template:
    text = "\n".join(sentence(rng) for _ in range(rng.randint(2, 40))) + "\n"
    return other_template("notes-{index:06d}.txt", text.encode(), text_line)


def markdown_readme(rng: random.Random) -> Template:
    title = " ".join(words(rng, 2, 4)).title()
    paragraphs = "\n\n".join(sentence(rng) for _ in range(rng.randint(2, 12)))
    return other_template(
        "README-{index:06d}.md", f"# {title}\n\n{paragraphs}\n".encode(), text_line
    )


def csv_export(rng: random.Random) -> Template:
    return other_template("export-{index:06d}.csv", csv_text(rng), csv_row)


def json_metadata(rng: random.Random) -> Template:
    """Split before the closing brace, so the stamp becomes one more member of the object."""
    document = {
        "album": " ".join(words(rng, 1, 3)),
        "rating": rng.randint(0, 5),
        "tags": words(rng, 0, 6),
        "people": rng.sample(WORDS, rng.randint(0, 3)),
    }
    text = json.dumps(document, indent=2)
    return Template(
        kind=OTHER,
        name_pattern="metadata-{index:06d}.json",
        prefix=text[: text.rindex("}")].rstrip().encode(),
        suffix=b"}\n",
        stamp=json_member,
    )


def svg_icon(rng: random.Random) -> Template:
    shapes = "".join(
        f'<circle cx="{rng.randint(0, 64)}" cy="{rng.randint(0, 64)}" r="{rng.randint(2, 30)}" '
        f'fill="#{rng.randrange(0x1000000):06x}"/>'
        for _ in range(rng.randint(1, 8))
    )
    opening = (
        '<?xml version="1.0" encoding="UTF-8"?>\n<svg xmlns="http://www.w3.org/2000/svg" '
        'width="64" height="64" viewBox="0 0 64 64">'
    )
    return Template(
        kind=OTHER,
        name_pattern="icon-{index:06d}.svg",
        prefix=f"{opening}{shapes}\n".encode(),
        suffix=b"</svg>\n",
        stamp=xml_comment,
    )


def gif_animation(rng: random.Random) -> Template:
    """Split before the trailer byte, so the stamp is a GIF comment extension."""
    buffer = io.BytesIO()
    frames = [graphic_image((64, 48), rng).convert("P") for _ in range(rng.randint(1, 3))]
    frames[0].save(buffer, "GIF", save_all=True, append_images=frames[1:], duration=200, loop=0)
    data = buffer.getvalue()
    assert data.endswith(b";"), "a GIF ends with its trailer byte"
    return Template(
        kind=OTHER,
        name_pattern="animation-{index:06d}.gif",
        prefix=data[:-1],
        suffix=b";",
        stamp=gif_comment_extension,
    )


# The long tail of a real library, by weight: notes, exports, sidecar-ish JSON, icons, GIFs.
OTHER_STYLES: Mapping[Callable[[random.Random], Template], int] = {
    text_note: 35,
    markdown_readme: 15,
    csv_export: 15,
    json_metadata: 15,
    svg_icon: 10,
    gif_animation: 10,
}


def build_other_template(rng: random.Random, profile: Profile) -> Template:
    style = rng.choices(list(OTHER_STYLES), list(OTHER_STYLES.values()))[0]
    return style(rng)


TEXT_STYLES: Mapping[Callable[[random.Random], Template], int] = {
    text_note: 40,
    markdown_readme: 20,
    csv_export: 20,
    json_metadata: 20,
}


def build_text_template(rng: random.Random, profile: Profile) -> Template:
    style = rng.choices(list(TEXT_STYLES), list(TEXT_STYLES.values()))[0]
    return dataclasses.replace(style(rng), kind=TEXT)


BUILDERS: Mapping[str, Callable[[random.Random, Profile], Template]] = {
    JPEG: build_jpeg_template,
    PNG: build_png_template,
    VIDEO: build_video_template,
    PDF: build_pdf_template,
    ZIP: build_zip_template,
    OTHER: build_other_template,
    TEXT: build_text_template,
}


def build_template_pools(
    counts: Mapping[str, int], *, profile: Profile, seed: int, workers: int
) -> dict[str, list[Template]]:
    """A few dozen templates per kind that the corpus needs, built in parallel: 12 MP JPEG
    encoding and ffmpeg runs dominate generation time otherwise."""
    jobs = [
        (kind, number)
        for kind, count in counts.items()
        for number in range(min(count, VIDEO_TEMPLATES if kind == VIDEO else TEMPLATES_PER_KIND))
    ]

    def build(job: tuple[str, int]) -> Template:
        kind, number = job
        return BUILDERS[kind](random.Random(f"{seed}/{kind}/{number}"), profile)

    with ThreadPoolExecutor(max_workers=workers) as pool:
        templates = list(pool.map(build, jobs))
    pools: dict[str, list[Template]] = {}
    for template in templates:
        pools.setdefault(template.kind, []).append(template)
    return pools


# --------------------------------------------------------------------------------------------
# Layout: where each file lives, like a library that grew over fifteen years.
# --------------------------------------------------------------------------------------------

EVENT_NAMES = (
    "Holiday",
    "Birthday",
    "Beach",
    "Wedding",
    "Hiking",
    "Christmas",
    "New Year",
    "Road Trip",
    "Kyōto",
    "Garden",
    "Concert",
    "Graduation",
    "Family Visit",
    "Ski Trip",
    "Café Crawl",
    "Camping",
    "Zoo",
    "Museum Day",
    "Lisboa",
    "First Day of School",
    "BBQ",
    "Harbour Walk",
)
EVENT_SUBFOLDERS = (
    "Day 1",
    "Day 2",
    "Day 3",
    "Edited",
    "Edited/Export",
    "Edited/Export/Web",
    "Raw/Card 1",
    "Raw/Card 2",
    "Best Of",
    "Phone",
)
DOCUMENT_FOLDERS = (
    *(
        f"Documents/{topic}/{year}"
        for topic in ("Taxes", "Receipts", "Bank Statements", "Medical")
        for year in range(2016, 2025)
    ),
    "Documents/Manuals",
    "Documents/Manuals/Kitchen",
    "Documents/Letters",
    "Documents/Résumé",
    "Documents/Work/Apollo/specs",
    "Documents/Work/Apollo/specs/drafts/old",
    "Documents/Work/Website Relaunch/design/exports/v2",
    "Documents/Work/Migration 2021/meeting notes/2021/Q3",
    "Documents/Kids/School/2022-2023/Reports",
)
NOTE_FOLDERS = ("Notes", "Notes/Recipes", "Notes/Travel", "Notes/Journal/2023")

# Which areas of the library each kind ends up in, by weight.
AREAS: Mapping[str, Mapping[str, int]] = {
    JPEG: {"events": 85, "phone_backup": 10, "camera_uploads": 5},
    VIDEO: {"events": 80, "phone_backup": 15, "camera_uploads": 5},
    PNG: {"screenshots": 70, "events": 15, "documents": 15},
    PDF: {"documents": 100},
    ZIP: {"archives": 60, "documents": 40},
    OTHER: {"documents": 50, "notes": 35, "events": 15},
    TEXT: {"documents": 65, "notes": 35},
}


@dataclass(frozen=True)
class PlannedFile:
    folder: str  # relative to the corpus root, "/"-separated
    kind: str
    when: datetime


@dataclass
class Event:
    folder: str
    when: datetime
    subfolders: tuple[str, ...]
    files_left: int


class Layout:
    """Places files the way a real library grows: `YYYY/YYYY-MM Event/` folders of a few to a
    few thousand files (some with `Edited/Export/Web`-style depth), a phone backup whose DCIM
    folders roll over every 999 files, a flat `Camera Uploads` folder with many files, yearly
    screenshot folders, and a documents tree that nests up to six levels."""

    def __init__(self, rng: random.Random) -> None:
        self._rng = rng
        self._event: Event | None = None
        self._event_folders: set[str] = set()
        self._phone_backup_files = 0
        self._places: Mapping[str, Callable[[str], PlannedFile]] = {
            "events": self._in_event,
            "phone_backup": self._in_phone_backup,
            "camera_uploads": self._in_camera_uploads,
            "screenshots": self._in_screenshots,
            "documents": self._in_documents,
            "archives": self._in_archives,
            "notes": self._in_notes,
        }

    def place(self, kind: str) -> PlannedFile:
        areas = AREAS[kind]
        area = self._rng.choices(list(areas), list(areas.values()))[0]
        return self._places[area](kind)

    def _in_event(self, kind: str) -> PlannedFile:
        if self._event is None or self._event.files_left == 0:
            self._event = self._new_event()
        event = self._event
        event.files_left -= 1
        folder = event.folder
        if event.subfolders and self._rng.random() < 0.4:
            folder = f"{folder}/{self._rng.choice(event.subfolders)}"
        when = event.when + timedelta(seconds=self._rng.randrange(3 * 86_400))
        return PlannedFile(folder, kind, when)

    def _new_event(self) -> Event:
        rng = self._rng
        when = random_moment(rng, 2009, 2024)
        folder = f"{when.year}/{when:%Y-%m} {rng.choice(EVENT_NAMES)}"
        base, n = folder, 2
        while folder in self._event_folders:
            folder, n = f"{base} ({n})", n + 1
        self._event_folders.add(folder)
        subfolders = ()
        if rng.random() < 0.25:
            subfolders = tuple(rng.sample(EVENT_SUBFOLDERS, rng.randint(1, 3)))
        return Event(folder, when, subfolders, self._event_size())

    def _event_size(self) -> int:
        band = self._rng.choices(((5, 80), (100, 400), (800, 2500)), (80, 15, 5))[0]
        return self._rng.randint(*band)

    def _in_phone_backup(self, kind: str) -> PlannedFile:
        folder = f"Phone Backup/DCIM/{100 + self._phone_backup_files // 999}APPLE"
        self._phone_backup_files += 1
        return PlannedFile(folder, kind, random_moment(self._rng, 2019, 2024))

    def _in_camera_uploads(self, kind: str) -> PlannedFile:
        return PlannedFile("Camera Uploads", kind, random_moment(self._rng, 2016, 2024))

    def _in_screenshots(self, kind: str) -> PlannedFile:
        when = random_moment(self._rng, 2015, 2024)
        return PlannedFile(f"Screenshots/{when.year}", kind, when)

    def _in_documents(self, kind: str) -> PlannedFile:
        return PlannedFile(
            self._rng.choice(DOCUMENT_FOLDERS), kind, random_moment(self._rng, 2016, 2024)
        )

    def _in_archives(self, kind: str) -> PlannedFile:
        when = random_moment(self._rng, 2012, 2024)
        return PlannedFile(f"Archives/{when.year}", kind, when)

    def _in_notes(self, kind: str) -> PlannedFile:
        return PlannedFile(
            self._rng.choice(NOTE_FOLDERS), kind, random_moment(self._rng, 2018, 2024)
        )


def kind_counts(count: int, mix: Mapping[str, float]) -> dict[str, int]:
    """Exact per-kind counts that add up to `count` (largest remainder), so a 10,000-file
    corpus has exactly 100 videos rather than 'about' 100."""
    total = sum(mix.values())
    exact = {kind: count * weight / total for kind, weight in mix.items()}
    counts = {kind: int(value) for kind, value in exact.items()}
    shortfall = count - sum(counts.values())
    by_remainder = sorted(exact, key=lambda kind: exact[kind] - counts[kind], reverse=True)
    for kind in by_remainder[:shortfall]:
        counts[kind] += 1
    return counts


def plan_library(counts: Mapping[str, int], rng: random.Random) -> list[PlannedFile]:
    kinds = [kind for kind, count in counts.items() for _ in range(count)]
    rng.shuffle(kinds)
    layout = Layout(rng)
    return [layout.place(kind) for kind in kinds]


# --------------------------------------------------------------------------------------------
# Writing
# --------------------------------------------------------------------------------------------


@dataclass
class KindStats:
    files: int = 0
    bytes: int = 0
    templates: int = 0


def write_library(
    root: Path,
    plan: Sequence[PlannedFile],
    pools: Mapping[str, Sequence[Template]],
    *,
    seed: int,
    rng: random.Random,
) -> tuple[dict[str, KindStats], int]:
    """Write every planned file with its mtime set to its (capture) time, as a camera import
    would; returns per-kind stats and the number of folders."""
    stats = {kind: KindStats(templates=len(pools[kind])) for kind in pools}
    made: set[str] = set()
    for index, item in enumerate(plan, start=1):
        template = pick_template(pools[item.kind], stats[item.kind].files, rng)
        if item.folder not in made:
            (root / item.folder).mkdir(parents=True, exist_ok=True)
            made.add(item.folder)
        path = root / item.folder / template.file_name(index=index, when=item.when)
        data = template.render(tag=b"%d:%d" % (seed, index), when=item.when)
        path.write_bytes(data)
        mtime_ns = int(item.when.timestamp()) * 1_000_000_000
        os.utime(path, ns=(mtime_ns, mtime_ns))
        stats[item.kind].files += 1
        stats[item.kind].bytes += len(data)
    return stats, count_folders(made)


def pick_template(pool: Sequence[Template], used: int, rng: random.Random) -> Template:
    """Each template once before any repeats, so a small corpus (20 photos) has 20 different
    pictures; after that at random, so large corpora do not repeat a fixed cycle."""
    return pool[used] if used < len(pool) else rng.choice(pool)


def count_folders(leaves: set[str]) -> int:
    """Folders including the intermediate ones (`2023/` for `2023/2023-07 Holiday`)."""
    folders: set[str] = set()
    for leaf in leaves:
        parts = leaf.split("/")
        folders.update("/".join(parts[:depth]) for depth in range(1, len(parts) + 1))
    return len(folders)


def resolve_profile(profile: str, photo_size: str | None) -> Profile:
    if profile not in PROFILES:
        raise CorpusError(f"unknown profile {profile!r}; choose one of {', '.join(PROFILES)}")
    resolved = PROFILES[profile]
    if photo_size is not None:
        if photo_size not in PHOTO_SIZES:
            raise CorpusError(
                f"unknown photo size {photo_size!r}; choose one of {', '.join(PHOTO_SIZES)}"
            )
        resolved = dataclasses.replace(resolved, photo_size=photo_size)
    return resolved


def check_can_write(root: Path, counts: Mapping[str, int]) -> None:
    if root.exists() and any(root.iterdir()):
        raise CorpusError(f"{root} exists and is not empty; give a new or empty directory")
    if counts.get(VIDEO) and shutil.which("ffmpeg") is None:
        raise CorpusError(
            "ffmpeg is needed for the video files; install it (apt-get install ffmpeg)"
        )


def generate(
    root: Path,
    count: int,
    *,
    profile: str = "mixed",
    seed: int = 0,
    photo_size: str | None = None,
    workers: int | None = None,
) -> dict:
    """Write a `count`-file library under `root` (new or empty) and return a summary:
    profile, seed, files and bytes per kind, folders, and how long each phase took."""
    if count < 1:
        raise CorpusError("count must be at least 1")
    chosen = resolve_profile(profile, photo_size)
    counts = {kind: n for kind, n in kind_counts(count, chosen.mix).items() if n}
    root = Path(root)
    check_can_write(root, counts)
    root.mkdir(parents=True, exist_ok=True)

    started = time.perf_counter()
    pools = build_template_pools(
        counts, profile=chosen, seed=seed, workers=workers or os.cpu_count() or 1
    )
    templates_done = time.perf_counter()
    rng = random.Random(seed)
    plan = plan_library(counts, rng)
    stats, folders = write_library(root, plan, pools, seed=seed, rng=rng)
    finished = time.perf_counter()

    return {
        "generator_version": GENERATOR_VERSION,
        "root": str(root),
        "profile": chosen.name,
        "photo_size": chosen.photo_size,
        "seed": seed,
        "files": count,
        "bytes": sum(s.bytes for s in stats.values()),
        "folders": folders,
        "by_kind": {kind: dataclasses.asdict(s) for kind, s in stats.items()},
        "elapsed_s": {
            "templates": round(templates_done - started, 3),
            "write": round(finished - templates_done, 3),
            "total": round(finished - started, 3),
        },
    }


# --------------------------------------------------------------------------------------------
# Cache, for benchmarks that want the same corpus on every run
# --------------------------------------------------------------------------------------------


def cache_name(*, profile: str, count: int, seed: int, photo_size: str | None = None) -> str:
    name = f"{profile}-{count}"
    if photo_size is not None and photo_size != PROFILES[profile].photo_size:
        name += f"-{photo_size}"
    return name if seed == 0 else f"{name}-seed{seed}"


def ensure_cached(
    count: int,
    *,
    profile: str,
    seed: int = 0,
    photo_size: str | None = None,
    cache_dir: Path = DEFAULT_CACHE_DIR,
    log: Callable[[str], None] = lambda message: None,
) -> tuple[Path, dict]:
    """Return (library root, summary) of a cached corpus, generating it if missing or stale.

    The library lives in `<cache>/<name>/library/` and its summary beside it in
    `corpus.json`, outside the library so that scanning the root sees only corpus files.
    `corpus.json` is written last: a run killed mid-generation leaves no summary and is
    regenerated from scratch next time.
    """
    entry = cache_dir / cache_name(profile=profile, count=count, seed=seed, photo_size=photo_size)
    library, summary_file = entry / "library", entry / "corpus.json"
    if summary_file.exists():
        summary = json.loads(summary_file.read_text())
        if summary.get("generator_version") == GENERATOR_VERSION and library.is_dir():
            return library, summary
    if entry.exists():
        shutil.rmtree(entry)
    log(f"generating {entry.name} corpus in {entry} ...")
    summary = generate(library, count, profile=profile, seed=seed, photo_size=photo_size)
    summary_file.write_text(json.dumps(summary, indent=2) + "\n")
    log(f"generated {count} files in {summary['elapsed_s']['total']:.1f} s")
    return library, summary


# --------------------------------------------------------------------------------------------
# CLI
# --------------------------------------------------------------------------------------------


def format_summary(summary: Mapping) -> str:
    lines = [
        f"{summary['files']} files, {summary['bytes'] / 1e6:.1f} MB in {summary['folders']} "
        f"folders under {summary['root']}",
        f"profile {summary['profile']}, photo size {summary['photo_size']}, seed {summary['seed']}",
        "",
        f"{'kind':<8}{'files':>10}{'MB':>12}{'templates':>11}",
    ]
    for kind, stats in summary["by_kind"].items():
        lines.append(
            f"{kind:<8}{stats['files']:>10}{stats['bytes'] / 1e6:>12.1f}{stats['templates']:>11}"
        )
    elapsed = summary["elapsed_s"]
    lines += [
        "",
        f"templates {elapsed['templates']:.1f} s, writing {elapsed['write']:.1f} s, "
        f"total {elapsed['total']:.1f} s",
    ]
    return "\n".join(lines)


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description="Generate a realistic, deterministic test library for Trove benchmarks."
    )
    parser.add_argument("out_dir", type=Path, help="new or empty directory to fill")
    parser.add_argument("--count", type=int, default=1000, help="number of files (default 1000)")
    parser.add_argument("--profile", choices=sorted(PROFILES), default="mixed")
    parser.add_argument(
        "--photo-size",
        choices=sorted(PHOTO_SIZES),
        help="JPEG size; default: tiny for light, small for mixed, 12mp for photos",
    )
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", action="store_true", help="print the summary as JSON")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        summary = generate(
            args.out_dir,
            args.count,
            profile=args.profile,
            seed=args.seed,
            photo_size=args.photo_size,
        )
    except CorpusError as error:
        print(f"corpus: {error}", file=sys.stderr)
        return 2
    print(json.dumps(summary, indent=2) if args.json else format_summary(summary))
    return 0


if __name__ == "__main__":
    sys.exit(main())
