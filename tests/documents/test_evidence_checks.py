"""Evidence files are judged by their content: real types only, no bombs, server-made names, fingerprint,
page count and thumbnail on arrival; a refused file leaves nothing behind."""

import hashlib
import io
import re
import shutil

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import translation
from PIL import Image
from pypdf import PdfWriter

from documents.models import Evidence
from documents.services import clean_original_name, evidence_check, evidence_store
from flows.models import Step
from tests.drive import apply_purchase

pytestmark = [
    pytest.mark.django_db,
    # Pillow warns about the oversize test images before our own check refuses them: expected here.
    pytest.mark.filterwarnings("ignore::PIL.Image.DecompressionBombWarning"),
]

HAS_PDFTOPPM = shutil.which("pdftoppm") is not None


# --- sample files, made for real -----------------------------------------------------------------


def image_bytes(kind: str = "PNG", size=(640, 480), mode="RGB", color=(200, 30, 30), **options) -> bytes:
    out = io.BytesIO()
    Image.new(mode, size, color).save(out, kind, **options)
    return out.getvalue()


def png_bytes(**kwargs) -> bytes:
    return image_bytes("PNG", **kwargs)


def jpeg_bytes(color=(30, 120, 200), size=(640, 480)) -> bytes:
    return image_bytes("JPEG", size=size, color=color, quality=90)


def tiff_bytes(pages: int = 3, size=(300, 400)) -> bytes:
    frames = [Image.new("L", size, 40 * n) for n in range(pages)]
    out = io.BytesIO()
    frames[0].save(out, "TIFF", save_all=True, append_images=frames[1:], compression="tiff_deflate")
    return out.getvalue()


def pdf_bytes(pages: int = 2, password: str = "") -> bytes:
    writer = PdfWriter()
    for _ in range(pages):
        writer.add_blank_page(width=595, height=842)
    if password:
        writer.encrypt(password)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def bomb_png(size=(20000, 20000)) -> bytes:
    """A few dozen kilobytes on disk, `size` pixels once decoded."""
    return image_bytes("PNG", size=size, mode="1", color=0, optimize=True)


HTML_BYTES = b"<!doctype html><html><body><script>alert(1)</script></body></html>"
EXECUTABLE_BYTES = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00" + b"\x00" * 200


def upload(name: str, content: bytes, content_type: str = "application/octet-stream") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content, content_type=content_type)


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


@pytest.fixture(autouse=True)
def english():
    """Messages in their English source, so that the assertions can quote them."""
    with translation.override("en"):
        yield


@pytest.fixture
def matter(world):
    return apply_purchase(world)


def store(world, matter, name: str, content: bytes, **kwargs) -> Evidence:
    return evidence_store(
        matter=matter, step=Step.PROPOSE, upload=upload(name, content), user=world.secretary_a1, **kwargs
    )


def stored_files(media_root) -> list:
    return [path for path in media_root.rglob("*") if path.is_file()] if media_root.exists() else []


def thumbnail_of(evidence: Evidence) -> Image.Image:
    with evidence.thumbnail.open("rb") as file:
        image = Image.open(io.BytesIO(file.read()))
        image.load()
    return image


# --- good files ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "make", "mime", "extension", "pages"),
    [
        ("报价单.png", png_bytes, "image/png", ".png", 1),
        ("合同.jpg", jpeg_bytes, "image/jpeg", ".jpg", 1),
        ("会议记录.tif", tiff_bytes, "image/tiff", ".tif", 3),
    ],
)
def test_a_good_image_is_stored_with_fingerprint_pages_and_thumbnail(
    world, matter, media_root, name, make, mime, extension, pages
):
    content = make()
    evidence = store(world, matter, name, content)
    evidence.refresh_from_db()
    assert evidence.sha256 == hashlib.sha256(content).hexdigest()
    assert (evidence.content_type, evidence.extension, evidence.size) == (mime, extension, len(content))
    assert evidence.page_count == pages
    assert evidence.original_name == name
    assert (media_root / evidence.file.name).read_bytes() == content
    thumbnail = thumbnail_of(evidence)
    assert thumbnail.format == "JPEG"
    assert thumbnail.width <= 200
    assert thumbnail.width >= 150


def test_a_good_pdf_is_stored_with_its_page_count(world, matter, media_root):
    content = pdf_bytes(pages=2)
    evidence = store(world, matter, "评估报告.pdf", content)
    assert (evidence.content_type, evidence.extension, evidence.page_count) == ("application/pdf", ".pdf", 2)
    assert evidence.sha256 == hashlib.sha256(content).hexdigest()
    assert (media_root / evidence.file.name).read_bytes() == content


@pytest.mark.skipif(not HAS_PDFTOPPM, reason="pdftoppm (poppler-utils) is not installed")
def test_a_pdf_thumbnail_is_its_first_page(world, matter):
    evidence = store(world, matter, "评估报告.pdf", pdf_bytes(pages=2))
    thumbnail = thumbnail_of(evidence)
    assert thumbnail.format == "JPEG"
    assert thumbnail.width == 200
    # A4 keeps its shape: 200 × 283.
    assert 280 <= thumbnail.height <= 285


def test_a_pdf_without_pdftoppm_is_stored_without_thumbnail(world, matter, monkeypatch):
    monkeypatch.setattr("documents.thumbnails.shutil.which", lambda name: None)
    evidence = store(world, matter, "评估报告.pdf", pdf_bytes(pages=1))
    assert evidence.page_count == 1
    assert not evidence.thumbnail


@pytest.mark.parametrize(
    "content",
    [
        png_bytes(mode="RGBA", color=(0, 0, 0, 0)),
        image_bytes("TIFF", mode="I;16", color=40000),
        image_bytes("JPEG", mode="CMYK", color=(0, 0, 0, 0)),
        png_bytes(mode="P", color=3),
        image_bytes("TIFF", mode="1", color=1, compression="group4"),
    ],
    ids=["rgba-png", "16-bit-tiff", "cmyk-jpeg", "palette-png", "fax-tiff"],
)
def test_unusual_image_modes_still_get_a_thumbnail(world, matter, content):
    evidence = store(world, matter, "scan", content)
    assert thumbnail_of(evidence).mode == "RGB"


def test_a_transparent_scan_gets_a_white_background_not_black(world, matter):
    evidence = store(world, matter, "scan.png", png_bytes(mode="RGBA", color=(0, 0, 0, 0)))
    assert thumbnail_of(evidence).getpixel((10, 10)) > (240, 240, 240)


def test_the_stored_name_is_made_by_the_server_under_evidence(world, matter):
    evidence = store(world, matter, "../../etc/passwd.png", png_bytes())
    assert re.fullmatch(rf"evidence/{matter.pk}/[0-9a-f]{{32}}\.png", evidence.file.name)
    assert re.fullmatch(r"thumbnails/[0-9a-f]{32}\.jpg", evidence.thumbnail.name)
    assert evidence.original_name == "passwd.png"


def test_the_extension_comes_from_the_content_not_the_name(world, matter):
    evidence = store(world, matter, "photo.pdf", jpeg_bytes())
    assert (evidence.content_type, evidence.extension) == ("image/jpeg", ".jpg")
    assert evidence.file.name.endswith(".jpg")
    assert evidence.original_name == "photo.pdf"


def test_files_of_a_step_take_the_next_positions(world, matter):
    first = store(world, matter, "1.png", png_bytes())
    second = store(world, matter, "2.png", png_bytes())
    elsewhere = evidence_store(
        matter=matter, step=Step.APPLY, upload=upload("x.png", png_bytes()), user=world.secretary_a1
    )
    assert (first.position, second.position, elsewhere.position) == (0, 1, 0)
    assert store(world, matter, "9.png", png_bytes(), position=9).position == 9


def test_evidence_check_keeps_its_answer_for_existing_callers():
    assert evidence_check(upload=upload("a.png", png_bytes())) == ("image/png", ".png")
    assert evidence_check(upload=upload("a", pdf_bytes())) == ("application/pdf", ".pdf")


def test_the_same_upload_can_be_stored_for_several_matters(world, matter):
    # A meeting's minutes are stored once for each matter it decided.
    other = apply_purchase(world)
    shared = upload("minutes.jpg", jpeg_bytes())
    first = evidence_store(matter=matter, step=Step.DELIBERATE, upload=shared, user=world.supervisor_a1)
    second = evidence_store(matter=other, step=Step.DELIBERATE, upload=shared, user=world.supervisor_a1)
    assert first.sha256 == second.sha256 == hashlib.sha256(jpeg_bytes()).hexdigest()
    assert first.size == second.size


# --- names are data ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("given", "kept"),
    [
        ("../../etc/passwd.png", "passwd.png"),
        ("..\\..\\windows\\win.ini.png", "win.ini.png"),
        ("/var/www/shell.php.jpg", "shell.php.jpg"),
        ("a\x00b.png", "ab.png"),
        ("evil\u202egnp.exe", "evilgnp.exe"),
        ("..", "upload"),
        ("", "upload"),
        ("  报价单.pdf  ", "报价单.pdf"),
        ("x" * 400 + ".pdf", "x" * 251 + ".pdf"),
    ],
)
def test_the_original_name_is_kept_only_as_a_harmless_basename(given, kept):
    assert clean_original_name(given) == kept


# --- bad files ---------------------------------------------------------------------------------------


def bomb_tiff() -> bytes:
    """A harmless first page, then a 20000 × 20000 one: every page is measured, not only the first."""
    frames = [Image.new("1", (100, 100)), Image.new("1", (20000, 20000))]
    out = io.BytesIO()
    frames[0].save(out, "TIFF", save_all=True, append_images=frames[1:], compression="group4")
    return out.getvalue()


def truncated_jpeg() -> bytes:
    content = jpeg_bytes(size=(800, 600))
    return content[: len(content) // 2]


def broken_png() -> bytes:
    content = bytearray(png_bytes())
    content[40] ^= 0xFF  # inside the image data: the chunk checksum no longer matches
    return bytes(content)


BAD_FILES = [
    ("invoice.pdf", HTML_BYTES, "invoice.pdf is not a PDF, JPEG, PNG or TIFF file."),
    ("photo.jpg", EXECUTABLE_BYTES, "photo.jpg is not a PDF, JPEG, PNG or TIFF file."),
    ("script.png", b"#!/bin/sh\nrm -rf /\n", "script.png is not a PDF, JPEG, PNG or TIFF file."),
    ("bomb.png", bomb_png(), "bomb.png would unpack into more than 60 megapixels; it is refused."),
    (
        "huge.png",
        bomb_png(size=(9000, 9000)),
        "huge.png is 9000 × 9000 pixels, more than the 60 megapixels a scan may have; scan it at a lower resolution.",
    ),
    (
        "pages.tif",
        bomb_tiff(),
        "pages.tif is 20000 × 20000 pixels, more than the 60 megapixels a scan may have; "
        "scan it at a lower resolution.",
    ),
    ("half.jpg", truncated_jpeg(), "half.jpg could not be read as a JPEG image; the file may be damaged."),
    ("fake.jpg", b"\xff\xd8\xff" + b"not a jpeg at all" * 10, "fake.jpg could not be read as a JPEG image"),
    ("crc.png", broken_png(), "crc.png could not be read as a PNG image; the file may be damaged."),
    ("fake.tif", b"II*\x00" + b"\x00" * 100, "fake.tif could not be read as a TIFF image"),
    (
        "locked.pdf",
        pdf_bytes(password="secret"),
        "locked.pdf is a password-protected (encrypted) PDF; save it without protection and upload it again.",
    ),
    ("broken.pdf", b"%PDF-1.4\n<html>nothing here</html>", "broken.pdf could not be read as a PDF"),
    ("empty.pdf", b"", "empty.pdf is empty."),
]


@pytest.mark.parametrize(("name", "content", "message"), BAD_FILES, ids=[row[0] for row in BAD_FILES])
def test_a_bad_file_is_refused_with_nothing_saved(world, matter, media_root, name, content, message):
    with pytest.raises(ValidationError) as refused:
        store(world, matter, name, content)
    assert any(text.startswith(message) for text in refused.value.messages), refused.value.messages
    assert not Evidence.objects.exists()
    assert stored_files(media_root) == []


@pytest.mark.parametrize(("name", "content", "message"), BAD_FILES, ids=[row[0] for row in BAD_FILES])
def test_evidence_check_refuses_the_same_files(name, content, message):
    with pytest.raises(ValidationError) as refused:
        evidence_check(upload=upload(name, content))
    assert refused.value.messages[0].startswith(message)


def test_an_oversize_file_is_refused_before_it_is_read(world, matter, media_root, settings):
    settings.EVIDENCE_MAX_BYTES = 1024 * 1024
    # A valid PNG with trailing padding: the size alone decides, before the content is looked at.
    content = png_bytes()
    content += b"\x00" * (settings.EVIDENCE_MAX_BYTES + 1 - len(content))
    with pytest.raises(ValidationError) as refused:
        store(world, matter, "scan.png", content)
    assert refused.value.messages == ["scan.png is too large (1.0 MB); the limit is 1 MB."]
    assert not Evidence.objects.exists()
    assert stored_files(media_root) == []


def test_the_pixel_cap_follows_the_setting(world, matter, settings):
    settings.EVIDENCE_MAX_PIXELS = 100 * 100
    with pytest.raises(ValidationError, match="101 × 100 pixels"):
        store(world, matter, "scan.png", png_bytes(size=(101, 100)))
    assert store(world, matter, "scan.png", png_bytes(size=(100, 100))).page_count == 1


def test_a_refused_file_names_itself_by_its_clean_name(world, matter):
    with pytest.raises(ValidationError) as refused:
        store(world, matter, "../../etc/pass\x00wd.jpg", EXECUTABLE_BYTES)
    assert refused.value.messages == ["passwd.jpg is not a PDF, JPEG, PNG or TIFF file."]


def test_a_truncated_jpeg_is_refused_even_after_weasyprint_was_imported():
    import weasyprint.images  # noqa: F401  (sets Pillow's LOAD_TRUNCATED_IMAGES when imported)
    from PIL import ImageFile

    previous, ImageFile.LOAD_TRUNCATED_IMAGES = ImageFile.LOAD_TRUNCATED_IMAGES, True
    try:
        with pytest.raises(ValidationError, match="could not be read as a JPEG"):
            evidence_check(upload=upload("half.jpg", truncated_jpeg()))
        assert ImageFile.LOAD_TRUNCATED_IMAGES is True, "the setting is given back"
    finally:
        ImageFile.LOAD_TRUNCATED_IMAGES = previous
