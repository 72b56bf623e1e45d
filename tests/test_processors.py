"""Each processor against real tools (ExifTool, ffmpeg, Tesseract, libmagic), without a
database: media with known content in, the values written into it out."""

from __future__ import annotations

import hashlib
import io
import os
import stat
import threading
import time
from dataclasses import replace
from datetime import datetime
from pathlib import Path

import psutil
import pytest
from PIL import Image, ImageOps

from tests.pipeline_media import (
    WORDS,
    camera_exif,
    marked,
    photo,
    text_image,
    text_pdf,
    video,
    write_photo,
)
from trove.config import Settings
from trove.domain.enums import StepStatus
from trove.drivers.manager import AssetDriverManager
from trove.pipeline.processor import AssetView
from trove.pipeline.processors import fingerprint
from trove.pipeline.processors.fingerprint import Sha256Processor
from trove.pipeline.processors.metadata import MetadataProcessor
from trove.pipeline.processors.mime import SHARED_BYTES, MimeProcessor
from trove.pipeline.processors.ocr import OcrProcessor, document_likeness
from trove.pipeline.processors.phash import PhashProcessor
from trove.pipeline.processors.probe import ProbeProcessor
from trove.pipeline.processors.text import PdfTextProcessor, PlainTextProcessor
from trove.pipeline.processors.thumbnails import ThumbnailProcessor
from trove.pipeline.processors.transcode import TranscodeProcessor
from trove.storage import cache, hashing
from trove.tools.exiftool import ExifToolSession
from trove.tools.run import ToolError, run_tool

FAKE_HASH = "ab" * 32


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(data_dir=tmp_path / "data", tool_timeout_s=30)


def view(path: Path, mime: str, asset_type: str, **extra) -> AssetView:
    st = path.stat()
    return AssetView(
        id=extra.pop("id", path.name),
        path=path,
        size=st.st_size,
        mtime_ns=st.st_mtime_ns,
        mime_type=mime,
        asset_type=asset_type,
        hash=extra.pop("hash", FAKE_HASH),
        filename=extra.pop("filename", path.name),
        **extra,
    )


def webp(settings: Settings, size: str, content_hash: str = FAKE_HASH) -> Image.Image:
    path = cache.derivative_path(settings.resolved_cache_dir, content_hash, f"{size}.webp")
    image = Image.open(io.BytesIO(path.read_bytes()))
    assert image.format == "WEBP"
    return image


# --- metadata ------------------------------------------------------------------------------


def test_exif_make_model_date_gps_and_orientation_are_read_back(tmp_path, settings):
    path = write_photo(tmp_path / "IMG_1.jpg", size=(600, 400), exif=camera_exif(orientation=6))
    processor = MetadataProcessor(settings)
    try:
        result = processor.process_batch([view(path, "image/jpeg", "image")])["IMG_1.jpg"]
    finally:
        processor.close()
    assert result.status == StepStatus.OK
    exif = result.metadata["exif"]
    assert exif["Make"] == "Canon"
    assert exif["Model"] == "EOS 5D Mark IV"
    assert exif["Orientation"] == 6
    assert exif["DateTimeOriginal"] == "2021:07:04 15:30:45"
    assert result.metadata["geo"] == pytest.approx({"lat": 48.8582222, "lon": -2.2945}, abs=1e-6)
    assert result.updates["captured_at"] == datetime(2021, 7, 4, 15, 30, 45)
    assert result.updates["timeline_at"] == result.updates["captured_at"]
    # Orientation 6 shows the 600x400 stored picture turned: 400 wide, 600 high.
    assert (result.updates["width"], result.updates["height"]) == (400, 600)
    assert "System" not in str(result.metadata.keys())


def test_one_exiftool_process_serves_batches_from_any_thread_and_isolates_a_bad_file(
    tmp_path, settings
):
    good = [write_photo(tmp_path / f"p{i}.jpg", seed=i, exif=camera_exif()) for i in range(3)]
    gone = tmp_path / "vanished.jpg"
    processor = MetadataProcessor(settings)
    try:
        views = [view(p, "image/jpeg", "image") for p in good]
        views.append(replace(views[0], id="gone", path=gone))
        results = processor.process_batch(views)
        (session,) = processor._exiftool._idle
        pid = session._process.pid
        # Another thread taking its turn (a pipeline's second batch thread) is lent it too.
        turn = threading.Thread(target=processor.process_batch, args=(views[:1],))
        turn.start()
        turn.join()
        assert processor._exiftool._idle == [session]
        assert session._process.pid == pid  # still the same resident process
    finally:
        processor.close()
    assert [results[p.name].status for p in good] == [StepStatus.OK] * 3
    assert results["gone"].status == StepStatus.FAILED


@pytest.mark.parametrize(
    ("in_hand", "grow_after_s", "processes"),
    [(8, 30.0, 1), (8, 0.0, 2), (40, 30.0, 2)],
    ids=["a few files, soon done", "a few files, busy too long", "many files"],
)
def test_a_request_meeting_a_busy_exiftool_borrows_it_unless_it_stays_busy(
    tmp_path, monkeypatch, in_hand, grow_after_s, processes
):
    """Two pipeline threads asking at once used to start an exiftool each (~0.1-0.15 s of
    Perl apiece), for runs of a handful of files too. The second now waits for a session
    busy with a few files up to GROW_AFTER_S, about what a start costs, and starts its own
    when it stays busy longer, or at once when the one in hand reads many files (a long
    run: then both are worth having)."""
    from trove.tools import exiftool

    monkeypatch.setattr(exiftool, "GROW_AFTER_S", grow_after_s)
    monkeypatch.setattr(exiftool, "SMALL_REQUESTS", 10)
    photos = [
        write_photo(tmp_path / f"p{i}.jpg", seed=i, exif=camera_exif()) for i in range(in_hand)
    ]
    pool = exiftool.SessionPool(timeout=60)
    run_over = threading.Event()

    def pipeline_thread() -> None:  # lives as long as the run: its exiftool dies with it
        pool.read(photos)
        run_over.wait(60)

    first = threading.Thread(target=pipeline_thread)
    try:
        first.start()
        deadline = time.monotonic() + 30
        while not pool._lent and time.monotonic() < deadline:  # the first request is in hand
            time.sleep(0.001)
        second = pool.read(photos[:1])
        assert "EXIF:Make" in second[photos[0]]
        while pool._lent and time.monotonic() < deadline:
            time.sleep(0.01)
        assert len(pool._idle) == processes
    finally:
        run_over.set()
        first.join()
        pool.close()


def test_a_hung_exiftool_is_killed_at_its_deadline_and_replaced(tmp_path):
    hang = tmp_path / "exiftool-hangs"
    hang.write_text("#!/bin/sh\nsleep 60\n")
    hang.chmod(hang.stat().st_mode | stat.S_IEXEC)
    session = ExifToolSession(timeout=1, executable=str(hang))
    results = session.read([write_photo(tmp_path / "a.jpg")])
    assert "timed out" in str(next(iter(results.values())))
    crash = tmp_path / "exiftool-crashes"
    crash.write_text("#!/bin/sh\nexit 3\n")
    crash.chmod(crash.stat().st_mode | stat.S_IEXEC)
    session = ExifToolSession(timeout=5, executable=str(crash))
    results = session.read([tmp_path / "a.jpg"])
    assert "exited" in str(next(iter(results.values())))


def test_a_tool_that_overruns_is_killed_with_its_children(tmp_path):
    pids = tmp_path / "pids"
    with pytest.raises(ToolError, match="timed out"):
        run_tool(["sh", "-c", f"sleep 30 & echo $$ $! > {pids}; sleep 30"], timeout=0.5)
    started = [int(pid) for pid in pids.read_text().split()]
    assert len(started) == 2  # the tool and the helper it forked
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and any(map(_alive, started)):
        time.sleep(0.05)
    assert not [pid for pid in started if _alive(pid)], "a process of the tool outlived it"


def _alive(pid: int) -> bool:
    """Running, as opposed to gone or a zombie waiting for its parent to reap it."""
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


# --- probe ---------------------------------------------------------------------------------


def test_probe_reports_duration_streams_codecs_and_rotation(tmp_path, settings):
    plain = video(tmp_path / "clip.mp4", size=(320, 240), seconds=2, fps=25)
    turned = video(tmp_path / "turned.mov", size=(320, 240), seconds=1, rotate=90)
    processor = ProbeProcessor(settings)
    result = processor.process(view(plain, "video/mp4", "video"))
    assert result.status == StepStatus.OK
    assert result.updates["duration"] == pytest.approx(2.0, abs=0.1)
    assert (result.updates["width"], result.updates["height"]) == (320, 240)
    probe = result.metadata["probe"]
    video_stream = next(s for s in probe["streams"] if s["type"] == "video")
    audio_stream = next(s for s in probe["streams"] if s["type"] == "audio")
    assert video_stream["codec"] == "h264" and video_stream["fps"] == 25.0
    assert audio_stream["codec"] == "aac" and audio_stream["sample_rate"] == 44100
    assert probe["bit_rate"] > 0
    rotated = processor.process(view(turned, "video/quicktime", "video"))
    assert rotated.metadata["probe"]["rotation"] in (90, 270)
    assert (rotated.updates["width"], rotated.updates["height"]) == (240, 320)


def test_probe_of_a_corrupt_video_fails_with_a_reason(tmp_path, settings):
    broken = tmp_path / "broken.mp4"
    broken.write_bytes(b"\x00\x00\x00\x18ftypmp42" + os.urandom(2000))
    result = ProbeProcessor(settings).process(view(broken, "video/mp4", "video"))
    assert result.status == StepStatus.FAILED and result.message


# --- thumbnails ----------------------------------------------------------------------------


def test_pyramid_has_three_sizes_upright_as_valid_webp(tmp_path, settings):
    path = tmp_path / "turned.jpg"
    marked((3000, 2000)).save(path, "JPEG", quality=90, exif=camera_exif(orientation=6).tobytes())
    asset = view(path, "image/jpeg", "image")
    result = ThumbnailProcessor(settings).process(asset)
    assert result.status == StepStatus.OK
    sizes = {name: webp(settings, name).size for name in ("small", "medium", "large")}
    # Stored 3000x2000, shown turned 90° clockwise: 2000 wide, 3000 high.
    assert sizes == {"small": (133, 200), "medium": (533, 800), "large": (1280, 1920)}
    large = webp(settings, "large").convert("RGB")
    # The red block stored top-left appears top-right once turned clockwise.
    assert _is_red(large.getpixel((1280 - 20, 20)))
    assert not _is_red(large.getpixel((20, 20)))
    assert result.updates["thumbnails"]["small"] == cache.urn(FAKE_HASH, "small.webp")
    assert "preview_small" in asset.scratch


def test_a_small_image_is_never_enlarged(tmp_path, settings):
    path = tmp_path / "tiny.png"
    photo((100, 80)).save(path)
    assert ThumbnailProcessor(settings).process(view(path, "image/png", "image")).status == "ok"
    assert {webp(settings, n).size for n in ("small", "medium", "large")} == {(100, 80)}


@pytest.mark.parametrize("fmt,mime", [("HEIF", "image/heic"), ("AVIF", "image/avif")])
def test_heic_and_avif_get_previews(tmp_path, settings, fmt, mime):
    import pillow_heif

    pillow_heif.register_heif_opener()
    path = tmp_path / f"phone.{fmt.lower()}"
    photo((400, 300)).save(path, fmt)
    result = ThumbnailProcessor(settings).process(view(path, mime, "image"))
    assert result.status == StepStatus.OK, result.message
    assert webp(settings, "small").size == (200, 150)


def test_video_pdf_and_svg_get_previews(tmp_path, settings):
    processor = ThumbnailProcessor(settings)
    clip = video(tmp_path / "clip.mp4", size=(640, 360), seconds=2)
    pdf = text_pdf(tmp_path / "letter.pdf", ["A letter"])
    svg = tmp_path / "drawing.svg"
    svg.write_text(
        '<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink"'
        ' width="300" height="150"><rect width="300" height="150" fill="#00ff00"/>'
        f'<image width="300" height="150" xlink:href="{tmp_path / "secret.png"}"/>'
        '<image width="300" height="150" href="http://127.0.0.1:9/x.png"/></svg>'
    )
    Image.new("RGB", (300, 150), (255, 0, 0)).save(tmp_path / "secret.png")
    cases = [
        (clip, "video/mp4", "video", "a" * 64, (640, 360), {"duration": 2.0}),
        (pdf, "application/pdf", "document", "b" * 64, (1484, 1920), {}),
        (svg, "image/svg+xml", "image", "c" * 64, (300, 150), {}),
    ]
    for path, mime, kind, content_hash, large, extra in cases:
        result = processor.process(view(path, mime, kind, hash=content_hash, **extra))
        assert result.status == StepStatus.OK, (path.name, result.message)
        assert webp(settings, "large", content_hash).size == large
    drawn = webp(settings, "large", "c" * 64).convert("RGB")
    assert drawn.getpixel((150, 75)) == pytest.approx((0, 255, 0), abs=8)  # no local file read


def test_truncated_and_oversized_images_fail_only_their_step(tmp_path, settings):
    good = write_photo(tmp_path / "good.jpg", size=(800, 600))
    truncated = tmp_path / "truncated.jpg"
    truncated.write_bytes(good.read_bytes()[:3000])
    strict = replace(settings, max_image_pixels=100_000)
    bomb = tmp_path / "bomb.png"
    Image.new("1", (4000, 4000)).save(bomb)
    failed = ThumbnailProcessor(settings).process(view(truncated, "image/jpeg", "image"))
    assert failed.status == StepStatus.FAILED and "truncated" in failed.message
    refused = ThumbnailProcessor(strict).process(view(bomb, "image/png", "image", hash="d" * 64))
    assert refused.status == StepStatus.FAILED and "limit" in refused.message
    garbage = tmp_path / "garbage.png"
    garbage.write_bytes(b"\x89PNG\r\n\x1a\n" + os.urandom(500))
    broken = ThumbnailProcessor(settings).process(view(garbage, "image/png", "image"))
    assert broken.status == StepStatus.FAILED


# --- pHash ---------------------------------------------------------------------------------


def test_phash_from_the_in_memory_preview_matches_the_cached_one(tmp_path, settings):
    path = write_photo(tmp_path / "p.jpg", size=(1600, 1200))
    asset = view(path, "image/jpeg", "image")
    ThumbnailProcessor(settings).process(asset)
    from_memory = PhashProcessor(settings).process(asset).updates["phash"]
    from_cache = PhashProcessor(settings).process(replace(asset, scratch={})).updates["phash"]
    assert len(from_memory) == 16
    assert (int(from_memory, 16) ^ int(from_cache, 16)).bit_count() <= 2


# --- text and OCR --------------------------------------------------------------------------


def test_pdf_text_layer_is_extracted(tmp_path, settings):
    pdf = text_pdf(
        tmp_path / "doc.pdf", ["Quarterly report for Trove", "Net revenue 1234"], pages=2
    )
    result = PdfTextProcessor(settings).process(view(pdf, "application/pdf", "document"))
    text = result.metadata["text"]
    assert "Quarterly report for Trove" in text["content"]
    assert "Net revenue 1234" in text["content"]
    assert text["pages"] == 2 and text["chars"] > 40


def test_a_text_files_words_are_read_whatever_its_encoding_and_a_large_ones_head_only(
    tmp_path, settings
):
    settings = replace(settings, max_text_chars=1000)
    step = PlainTextProcessor(settings)
    files = {
        "note.md": ("# Groceries\r\nmilk, café crème\r\n".encode(), "text/plain"),
        "old.txt": ("Café crème, s'il vous plaît".encode("cp1252"), "text/plain"),
        "mac.txt": ("old\rMac lines, déjà vu, café".encode("cp1252"), "text/plain"),
        # UTF-8 with one stray byte: still UTF-8 (read as Windows-1252, "café" is lost).
        "stray.txt": ("naïve café ".encode() + b"\xff" + "déjà".encode(), "text/plain"),
        "wide.txt": ("Ångström units".encode("utf-16"), "text/plain"),
        "data.json": (b'{"city": "Kyoto"}', "application/json"),
        # Its first 4,000 bytes (4 a character allowed) end in half of a two-byte character.
        "big.txt": (("x" * 3999 + "é and more").encode(), "text/plain"),
    }
    texts = {}
    for name, (data, mime) in files.items():
        (tmp_path / name).write_bytes(data)
        asset = view(tmp_path / name, mime, "document")
        assert step.applies_to(asset)
        result = step.process(asset)
        assert result.status == StepStatus.OK, name
        texts[name] = result.metadata["text"]
    assert texts["note.md"]["content"] == "# Groceries\nmilk, café crème"
    assert texts["old.txt"]["content"] == "Café crème, s'il vous plaît"
    assert texts["mac.txt"]["content"] == "old\nMac lines, déjà vu, café"  # its last letter kept
    assert texts["stray.txt"]["content"] == "naïve café \ufffddéjà"
    assert texts["wide.txt"]["content"] == "Ångström units"
    assert texts["data.json"]["content"] == '{"city": "Kyoto"}'
    assert {t["source"] for t in texts.values()} == {"plain"}
    assert not any(texts[n]["truncated"] for n in files if n != "big.txt")
    assert texts["big.txt"] == {
        "content": "x" * 1000,
        "chars": 1000,
        "truncated": True,
        "source": "plain",
    }
    # Markup around words, pictures and folders are not text files.
    (tmp_path / "letter.rtf").write_bytes(b"{\\rtf1 Dear}")
    (tmp_path / "p.png").write_bytes(b"")
    assert not step.applies_to(view(tmp_path / "letter.rtf", "text/rtf", "document"))
    assert not step.applies_to(view(tmp_path / "p.png", "image/png", "image"))


def test_a_vanished_text_file_fails_its_step_with_a_reason(tmp_path, settings):
    gone = tmp_path / "gone.txt"
    gone.write_text("soon gone")
    asset = view(gone, "text/plain", "document")
    gone.unlink()
    result = PlainTextProcessor(settings).process(asset)
    assert result.status == StepStatus.FAILED
    assert "cannot read file" in (result.message or "")


def test_ocr_reads_an_image_of_text_and_skips_a_photo(tmp_path, settings):
    scan = text_image(tmp_path / "scan.png")
    holiday = write_photo(tmp_path / "holiday.jpg", size=(1200, 900))
    thumbs, ocr = ThumbnailProcessor(settings), OcrProcessor(settings)
    try:
        page = view(scan, "image/png", "image", hash="e" * 64)
        thumbs.process(page)
        result = ocr.process(page)
        assert result.status == StepStatus.OK, result.message
        found = result.metadata["ocr"]["content"].lower()
        assert all(word.lower() in found for word in WORDS.split()), found
        picture = view(holiday, "image/jpeg", "image", hash="f" * 64)
        thumbs.process(picture)
        assert ocr.process(picture).status == StepStatus.SKIPPED
    finally:
        ocr.close()


def test_a_scanned_pdf_without_text_layer_is_ocrd(tmp_path, settings):
    scan = text_image(tmp_path / "page.png")
    pdf = tmp_path / "scanned.pdf"
    Image.open(scan).save(pdf, "PDF", resolution=150)
    asset = view(pdf, "application/pdf", "document")
    text = PdfTextProcessor(settings).process(asset).metadata["text"]
    assert text["chars"] == 0
    ocr = OcrProcessor(settings)
    try:
        result = ocr.process(replace(asset, meta={"text": text}))
    finally:
        ocr.close()
    assert "harbour" in result.metadata["ocr"]["content"].lower()


def test_document_likeness_tells_pages_from_pictures(tmp_path):
    page = Image.open(text_image(tmp_path / "t.png")).convert("RGB")
    looks, signals = document_likeness(page)
    assert looks and set(signals) == {"bright", "dark", "mid", "saturation"}
    looks, signals = document_likeness(photo((800, 600), seed=3))
    assert not looks and "saturation" not in signals  # failed on its tones: no colour check
    # The page's tones in vivid colour (ink on yellow): bright and bimodal, but not paper.
    yellow = ImageOps.colorize(page.convert("L"), black=(90, 0, 120), white=(255, 255, 0))
    looks, signals = document_likeness(yellow)
    assert not looks and signals["bright"] >= 0.5 and signals["saturation"] > 60


# --- MIME and transcodes -------------------------------------------------------------------


def test_mime_recheck_corrects_a_wrong_guess_and_the_drivers_give_the_type(tmp_path, settings):
    path = write_photo(tmp_path / "really-a-jpeg.txt")
    processor = MimeProcessor(AssetDriverManager.load(settings))
    result = processor.process(view(path, "text/plain", "document"))
    assert result.updates == {
        "mime_type": "image/jpeg",
        "asset_type": "image",
        "category": "physical",
    }


def test_a_small_file_is_read_once_for_its_type_and_its_hash(tmp_path, settings, monkeypatch):
    """The `mime` step reads a small original whole; the `hash` step of the same pass digests
    those bytes instead of opening the file again. A larger one is read by each step."""
    small = tmp_path / "note.md"
    small.write_text("# a note\n" * 40)
    large = tmp_path / "big.txt"
    large.write_bytes(b"words of a large file\n" * (SHARED_BYTES // 10))
    mime, sha = MimeProcessor(AssetDriverManager.load(settings)), Sha256Processor()
    read_by_hash: list[Path] = []

    def sha256_file(path):
        read_by_hash.append(Path(path))
        return hashing.sha256_file(path)

    monkeypatch.setattr(fingerprint, "sha256_file", sha256_file)
    for path in (small, large):
        asset = view(path, "text/plain", "document", hash=None)
        assert mime.process(asset).status == StepStatus.OK
        assert sha.process(asset).updates == {"hash": hashlib.sha256(path.read_bytes()).hexdigest()}
    assert read_by_hash == [large]
    # The bytes are the file's as it was when they were read: one changed since it was
    # registered is refused as when the step reads it itself.
    asset = view(small, "text/plain", "document", hash=None)
    small.write_text("changed")
    mime.process(asset)
    assert sha.process(asset).status == StepStatus.FAILED


def test_transcodes_make_web_derivatives_in_the_cache(tmp_path, settings):
    processor = TranscodeProcessor(settings)
    tiff = tmp_path / "scan.tiff"
    photo((500, 400)).save(tiff)
    avi = video(tmp_path / "old.avi", size=(320, 240), seconds=1, codec="mpeg4")
    made = processor.process(view(tiff, "image/tiff", "image", hash="1" * 64)).derivatives[0]
    assert made.mime_type == "image/webp" and (made.width, made.height) == (500, 400)
    assert Image.open(made.path).format == "WEBP"
    probe = ProbeProcessor(settings).process(view(avi, "video/x-msvideo", "video")).metadata
    clip = processor.process(view(avi, "video/x-msvideo", "video", hash="2" * 64, meta=probe))
    made = clip.derivatives[0]
    assert made.mime_type == "video/mp4" and (made.width, made.height) == (320, 240)
    assert made.path.name == "web.mp4" and made.duration == pytest.approx(1.0, abs=0.1)
    assert not processor.applies_to(view(avi, "video/mp4", "video", filename="x.mp4"))


def _is_red(pixel) -> bool:  # type: ignore[no-untyped-def]
    r, g, b = pixel[:3]
    return r > 200 and g < 60 and b < 60


def test_svg_references_outside_the_drawing_are_removed_and_markup_entities_refused():
    from trove.tools.svg import UnsafeSvg, sanitise

    cleaned = sanitise(
        b'<svg><image href="/etc/x.png"/><image xlink:href="#local"/>'
        b'<rect style="fill:url(file:///x)"/><rect fill="url(#g)"/></svg>'
    )
    assert b"/etc/x.png" not in cleaned and b"file:" not in cleaned
    assert b'xlink:href="#local"' in cleaned and b"url(#g)" in cleaned
    illustrator = b'<!DOCTYPE svg [<!ENTITY ns_svg "http://www.w3.org/2000/svg">]><svg/>'
    assert sanitise(illustrator) == illustrator
    for hostile in (
        b'<!DOCTYPE svg [<!ENTITY x SYSTEM "file:///etc/passwd">]><svg>&x;</svg>',
        b"<!DOCTYPE svg [<!ENTITY e \"<image &#104;ref='/etc/p.png'/>\">]><svg>&e;</svg>",
        b'<!DOCTYPE svg [<!ENTITY a "&b;&b;&b;">]><svg>&a;</svg>',
    ):
        with pytest.raises(UnsafeSvg):
            sanitise(hostile)


def test_a_killed_worker_leaves_no_exiftool_behind(tmp_path):
    import subprocess
    import sys
    import time

    photo_path = write_photo(tmp_path / "a.jpg")
    script = (
        "import os, sys; from pathlib import Path\n"
        "from trove.tools.exiftool import ExifToolSession\n"
        "s = ExifToolSession(timeout=30); s.read([Path(sys.argv[1])])\n"
        "print(s._process.pid, flush=True); os._exit(9)\n"
    )
    child = subprocess.run(
        [sys.executable, "-c", script, str(photo_path)], capture_output=True, text=True, timeout=60
    )
    pid = int(child.stdout.split()[0])
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and Path(f"/proc/{pid}").exists():
        time.sleep(0.1)
    assert not Path(f"/proc/{pid}").exists(), "exiftool outlived the process that started it"


def test_the_view_after_a_step_has_its_changes_and_leaves_the_one_before_as_it_was():
    """What the next step of a pass sees: the core fields the step set, its metadata merged
    into the earlier namespaces, everything else (the scratch too) as before."""
    from trove.pipeline.processor import StepResult, view_after

    before = AssetView(
        id="a",
        path=Path("/library/note.txt"),
        size=10,
        mtime_ns=1,
        mime_type="text/plain",
        asset_type="document",
        hash=None,
        filename="note.txt",
        meta={"exif": {"Make": "X"}},
    )
    before.scratch["preview"] = "decoded"
    result = StepResult.ok(metadata={"document": {"sub_type": None}}, hash="ab", not_a_field=1)

    after = view_after(before, result)

    assert after == replace(
        before, hash="ab", meta={"exif": {"Make": "X"}, "document": {"sub_type": None}}
    )
    assert after.scratch is before.scratch
    assert (before.hash, before.meta) == (None, {"exif": {"Make": "X"}})
    with pytest.raises(AttributeError):
        after.hash = "cd"  # type: ignore[misc]
    assert view_after(after, StepResult.ok()) is after
