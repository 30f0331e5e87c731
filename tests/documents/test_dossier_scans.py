"""The dossier's scans go to WeasyPrint as files, untouched when they are fit; its queries do not grow with it."""

import io
from decimal import Decimal
from pathlib import Path
from unittest import mock

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import translation
from PIL import Image

from documents import rendering, scans
from documents.scans import IMAGE_MAX_SIDE, scan_fetcher
from flows.models import Decision, Step
from tests.conftest import purchase_data
from tests.drive import act, apply_purchase, refresh, run_to_end

from .test_rendering import attach, ledger_calls, media_root, pdf_scan, png_scan, tiff_scan, to_step  # noqa: F401

pytestmark = pytest.mark.django_db


def jpeg(size=(800, 1100), orientation: int | None = None) -> bytes:
    image = Image.new("RGB", size, (240, 240, 230))
    image.paste((20, 20, 20), (50, 50, size[0] - 50, 120))
    buffer = io.BytesIO()
    exif = Image.Exif()
    if orientation:
        exif[0x0112] = orientation
    image.save(buffer, "JPEG", quality=85, exif=exif.tobytes())
    return buffer.getvalue()


def embedded_images(matter):
    """The file: URLs the dossier's HTML gives each image scan, and the bytes behind them."""
    seen = {}
    real = rendering._write_pdf

    def spy(html, folder=None, **options):
        for scan_url in [part.split('"')[0] for part in html.split('src="file://')[1:]]:
            seen[scan_url] = Path(scan_url).read_bytes()  # read now: the folder goes with the rendering
        return real(html, folder, **options)

    with mock.patch.object(rendering, "_write_pdf", spy):
        document = rendering.render_document(rendering.dossier_request(matter=matter))
    return document, seen


def test_a_fit_jpeg_is_embedded_byte_for_byte_and_not_as_text(world):
    photo = jpeg()
    matter = apply_purchase(world)
    attach(world, matter, "现场照片.jpg", photo)
    document, seen = embedded_images(run_to_end(world, matter))
    assert list(seen.values()) == [photo]
    assert document.status == "done"


def test_images_that_need_it_are_converted_once(world):
    matter = apply_purchase(world)
    attach(world, matter, "侧拍.jpg", jpeg(orientation=6))  # sideways phone photo: turned upright
    attach(world, matter, "超大.jpg", jpeg(size=(IMAGE_MAX_SIDE + 200, 1000)))  # downscaled
    attach(world, matter, "收据.tif", tiff_scan())  # two pages, each a PNG
    _document, seen = embedded_images(run_to_end(world, matter))
    sizes = [Image.open(io.BytesIO(content)).size for content in seen.values()]
    formats = [Image.open(io.BytesIO(content)).format for content in seen.values()]
    assert sizes[0] == (1100, 800)
    assert max(sizes[1]) == IMAGE_MAX_SIDE
    assert formats == ["JPEG", "JPEG", "PNG", "PNG"]


def test_the_fetcher_reads_only_the_renderings_own_files(tmp_path):
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "scan.png").write_bytes(png_scan())
    (tmp_path / "secret.txt").write_text("not for the volume")
    fetcher = scan_fetcher(mine)
    assert fetcher.fetch((mine / "scan.png").as_uri()).read() == png_scan()
    for refused in [
        (tmp_path / "secret.txt").as_uri(),
        f"{(mine / '..' / 'secret.txt').as_uri()}",
        "http://example.com/x",
    ]:
        with pytest.raises(ValueError):
            fetcher.fetch(refused)
    with pytest.raises(ValueError):
        scan_fetcher(None).fetch((mine / "scan.png").as_uri())


def test_a_scan_that_fails_to_decode_is_named_not_fatal(world, monkeypatch):
    matter = apply_purchase(world)
    attach(world, matter, "坏图.png", png_scan())
    monkeypatch.setattr(scans, "_image_pages", mock.Mock(side_effect=OSError("truncated")))
    document = rendering.render_document(rendering.dossier_request(matter=run_to_end(world, matter)))
    assert document.status == "done"


def returned_once(world):
    matter = to_step(world, apply_purchase(world), Step.CHECK_BY_TOWNSHIP)
    act(world.officer_a, matter, decision=Decision.RETURN, opinion="请补充报价单", return_to=Step.APPLY)
    act(
        world.secretary_a1,
        refresh(matter),
        decision=Decision.SUBMIT,
        opinion="已补充",
        data=purchase_data(Decimal("8000.00")),
    )
    return matter


def dossier_queries(matter) -> int:
    document = rendering.dossier_request(matter=matter)
    with CaptureQueriesContext(connection) as captured:
        assert rendering.render_document(document).status == "done"
    return len(captured)


def test_the_dossier_costs_the_same_queries_however_large_it_is(world):
    small = apply_purchase(world, title="小")
    attach(world, small, "报价单.png", png_scan())
    attach(world, small, "合同.pdf", pdf_scan())
    small = run_to_end(world, small)
    large = returned_once(world)
    for number in range(3):
        attach(world, large, f"报价单{number}.png", png_scan())
        attach(world, large, f"照片{number}.jpg", jpeg())
    attach(world, large, "合同.pdf", pdf_scan())
    attach(world, large, "收据.tif", tiff_scan(), step=Step.IMPLEMENT)
    large = run_to_end(world, large)
    assert large.step_records.count() > small.step_records.count()
    assert dossier_queries(large) == dossier_queries(small)


def test_a_truncated_upload_is_refused_even_once_weasyprint_is_loaded():
    import weasyprint.images  # noqa: F401 — sets Pillow's LOAD_TRUNCATED_IMAGES for the whole process
    from django.core.exceptions import ValidationError
    from django.core.files.uploadedfile import SimpleUploadedFile
    from PIL import ImageFile

    from documents.services import evidence_check

    assert ImageFile.LOAD_TRUNCATED_IMAGES is True
    whole = jpeg(size=(600, 800))
    with translation.override("en"), pytest.raises(ValidationError, match="could not be read"):
        evidence_check(upload=SimpleUploadedFile("half.jpg", whole[: len(whole) // 2]))
    assert ImageFile.LOAD_TRUNCATED_IMAGES is True  # left as WeasyPrint wants it for rendering
