"""Benchmark of the dossier (案卷) PDF: the product's rendering beside bare WeasyPrint on the same pages.

An archived asset purchase with 10 scans (6 JPEG photos from a document camera, 2 PNG scans, 2 one-page
PDF scans) gives a dossier of about 21 pages. In the same run, alternating, the script times:

- the product: ``documents.rendering.render_document`` on a new dossier request, everything included
  (reading the matter, checking each scan's fingerprint from storage, the HTML, the layout, drawing the
  PDF scans into their pages, storing the file, the ledger entry), and counts its queries;
- bare WeasyPrint: ``HTML(string=...).write_pdf()`` on the very HTML the product laid out, its images
  given as the same files: the cost of the pages alone.

It prints the median of each and their ratio (target ≤ 1.5×). Runs on a throwaway database made and
destroyed by Django's test machinery (a SQLite file in a temporary directory, or with ``DATABASE_URL`` a
PostgreSQL test database); never touches ``var/``. Usage: ``.venv/bin/python scripts/bench_dossier.py [repeats]``.
"""

import io
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
TEMP_DIR = Path(tempfile.mkdtemp(prefix="bench-dossier-"))
os.environ["VAR_DIR"] = str(TEMP_DIR)
os.environ["MEDIA_ROOT"] = str(TEMP_DIR / "media")
os.environ["DJANGO_SETTINGS_MODULE"] = "project.settings.test"
os.environ["PYTEST_XDIST_WORKER"] = "bench-dossier"

import django  # noqa: E402

django.setup()

from django.core.files.uploadedfile import SimpleUploadedFile  # noqa: E402
from django.db import connection  # noqa: E402
from django.test.utils import CaptureQueriesContext, setup_test_environment, teardown_test_environment  # noqa: E402

TARGET_RATIO = 1.5
DEFAULT_REPEATS = 5


def photo(number: int) -> bytes:
    """A document camera's JPEG of an A4 page (1654 × 2339, 200 dpi): lines of text on off-white paper."""
    from PIL import Image, ImageDraw

    page = Image.new("RGB", (1654, 2339), (246, 244, 238))
    draw = ImageDraw.Draw(page)
    for line in range(80):
        width = 1200 - (line * 41 + number * 67) % 500
        draw.rectangle((160, 160 + line * 26, 160 + width, 172 + line * 26), fill=(40, 40, 48))
    buffer = io.BytesIO()
    page.save(buffer, "JPEG", quality=85)
    return buffer.getvalue()


def png_scan(number: int) -> bytes:
    """A flatbed scanner's greyscale PNG of a page (1240 × 1754, 150 dpi)."""
    from PIL import Image, ImageDraw

    page = Image.new("L", (1240, 1754), 255)
    draw = ImageDraw.Draw(page)
    for line in range(60):
        draw.rectangle((120, 120 + line * 25, 1000 - (line * 31 + number * 17) % 300, 132 + line * 25), fill=20)
    buffer = io.BytesIO()
    page.save(buffer, "PNG")
    return buffer.getvalue()


def pdf_scan(number: int) -> bytes:
    from weasyprint import HTML

    return HTML(string=f"<p style='font-size: 24pt'>扫描件 {number}</p>").write_pdf()


def archived_matter():
    from documents.services import evidence_store
    from flows.models import Step
    from tests.conftest import build_world
    from tests.drive import apply_purchase, run_to_end

    world = build_world()
    matter = apply_purchase(world, total="60000.00", quotations=3)
    scans = [(f"照片{n}.jpg", photo(n), Step.APPLY) for n in range(1, 5)]
    scans += [(f"扫描{n}.png", png_scan(n), Step.APPLY) for n in range(1, 3)]
    scans += [(f"合同{n}.pdf", pdf_scan(n), Step.IMPLEMENT) for n in range(1, 3)]
    scans += [(f"收据{n}.jpg", photo(10 + n), Step.IMPLEMENT) for n in range(1, 3)]
    for name, content, step in scans:
        evidence_store(matter=matter, step=step, upload=SimpleUploadedFile(name, content), user=world.secretary_a1)
    return run_to_end(world, matter)


class Capture:
    """Keeps the HTML the product lays out and a copy of the files it points at, for the bare run."""

    def __init__(self, rendering):
        self.rendering = rendering
        self.real = rendering._write_pdf
        self.html = ""
        self.files = TEMP_DIR / "bare-files"

    def __enter__(self):
        def spy(html, *args, **kwargs):
            self.html = html
            for folder in {Path(p) for p in _file_folders(html)}:
                shutil.copytree(folder, self.files / folder.name, dirs_exist_ok=True)
            return self.real(html, *args, **kwargs)

        self.rendering._write_pdf = spy
        return self

    def __exit__(self, *exc):
        self.rendering._write_pdf = self.real

    def bare_html(self) -> str:
        html = self.html
        for folder in {Path(p) for p in _file_folders(html)}:
            html = html.replace(f"file://{folder}/", f"file://{self.files / folder.name}/")
        return html


def _file_folders(html: str) -> list[str]:
    import re

    return [os.path.dirname(path) for path in re.findall(r'src="file://([^"]+)"', html)]


def main() -> int:
    repeats = int(sys.argv[1]) if len(sys.argv) > 1 else DEFAULT_REPEATS
    started = time.perf_counter()
    try:
        setup_test_environment()
        if connection.vendor == "sqlite":
            connection.settings_dict["TEST"]["NAME"] = str(TEMP_DIR / "bench.sqlite3")
        else:
            connection.settings_dict["TEST"]["NAME"] = f"test_bench_dossier_{os.getpid()}"
        test_name = connection.creation.create_test_db(verbosity=0, autoclobber=True, keepdb=False)
        try:
            return run(repeats)
        finally:
            connection.creation.destroy_test_db(test_name, verbosity=0, keepdb=False)
            teardown_test_environment()
    finally:
        shutil.rmtree(TEMP_DIR, ignore_errors=True)
        print(f"done in {time.perf_counter() - started:.1f} s")


def run(repeats: int) -> int:
    from weasyprint import HTML

    from documents import rendering

    matter = archived_matter()
    product_times, bare_times, queries = [], [], []
    pages = 0
    # One warm-up round of each (fonts, templates), then alternating rounds.
    for round_number in range(repeats + 1):
        with Capture(rendering) as capture, CaptureQueriesContext(connection) as captured:
            begin = time.perf_counter()
            document = rendering.render_document(rendering.dossier_request(matter=matter))
            product = time.perf_counter() - begin
        html = capture.bare_html()
        begin = time.perf_counter()
        HTML(string=html, base_url=rendering.site_url("/")).write_pdf()
        bare = time.perf_counter() - begin
        if round_number:
            product_times.append(product)
            bare_times.append(bare)
            queries.append(len(captured))
        pages = document.page_count
    product, bare = statistics.median(product_times), statistics.median(bare_times)
    ratio = product / bare
    print(f"bench_dossier: {connection.vendor}, a dossier of {pages} pages with 10 scans, median of {repeats} rounds")
    print(f"{'':28}{'time':>10}{'queries':>10}")
    print(f"{'bare WeasyPrint, same pages':28}{bare * 1000:>8.0f}ms{'—':>10}")
    print(f"{'the product':28}{product * 1000:>8.0f}ms{statistics.median(queries):>10.0f}")
    verdict = "within" if ratio <= TARGET_RATIO else "OVER"
    print(f"ratio product / bare: {ratio:.2f}× ({verdict} the target of {TARGET_RATIO}×)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
