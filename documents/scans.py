"""Scans as a dossier embeds them: read once from storage, checked, and handed to WeasyPrint as files.

Each evidence file is streamed from storage (the local disk or an object store) into the rendering's
work folder while its SHA-256 is taken, so the volume embeds exactly the bytes it checked. An image that
is already fit for the page (a JPEG or PNG of one frame, upright, no larger than A4 at 300 dpi) is
embedded as that file: WeasyPrint passes a JPEG into the PDF as it is, with no decoding. Only the others
are converted, once: a multi-page TIFF into one PNG per page, a sideways phone photo turned upright, an
oversized scan downscaled. The HTML names the files by ``file:`` URL and ``ScanFetcher`` lets WeasyPrint
read those and nothing else; no scan travels inside the HTML as text.
"""

import hashlib
import logging
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit
from urllib.request import url2pathname

from django.utils.translation import gettext as _

logger = logging.getLogger(__name__)

# Scans are downscaled to A4 at 300 dpi: enough to read, small enough to keep the volume light.
IMAGE_MAX_SIDE = 3508
TIFF_MAX_FRAMES = 200
IMAGE_TYPES = {"image/jpeg", "image/png", "image/tiff"}
# Image modes WeasyPrint embeds faithfully as they are, per format (16-bit PNGs it cannot).
AS_IS_MODES = {"JPEG": {"L", "RGB", "CMYK"}, "PNG": {"1", "L", "LA", "P", "RGB", "RGBA"}}
EXIF_ORIENTATION = 0x0112
CHUNK = 1 << 20


@dataclass
class Scan:
    """One evidence file as the dossier shows it: image pages inline, PDF pages in the appendix."""

    evidence: object
    number: int
    step_label: str
    images: list[str] = field(default_factory=list)  # file: URLs, one per page
    pdf: object = None
    pdf_pages: int = 0
    problem: str = ""

    @property
    def anchor(self) -> str:
        return f"scan-{self.evidence.pk}"

    @property
    def is_image(self) -> bool:
        return bool(self.images)

    @property
    def is_pdf(self) -> bool:
        return self.pdf is not None

    @property
    def slots(self) -> list[tuple[int, str]]:
        """(1-based page of the scan, anchor of its placeholder page)."""
        return [(page, f"slot-{self.evidence.pk}-{page}") for page in range(1, self.pdf_pages + 1)]


def _copy_checked(evidence, target: Path) -> bool:
    """Stream the stored file to ``target``; True when its content still has the fingerprint taken on arrival."""
    digest = hashlib.sha256()
    # Storage errors propagate: the task retries rather than print a volume with a hole in it.
    with evidence.file.open("rb") as source, target.open("wb") as out:
        while chunk := source.read(CHUNK):
            digest.update(chunk)
            out.write(chunk)
    return digest.hexdigest() == evidence.sha256


def _fit_as_is(image) -> bool:
    if image.format not in AS_IS_MODES or image.mode not in AS_IS_MODES[image.format]:
        return False
    if getattr(image, "n_frames", 1) != 1 or max(image.size) > IMAGE_MAX_SIDE:
        return False
    return image.getexif().get(EXIF_ORIENTATION, 1) == 1


def _image_pages(source: Path, folder: Path) -> list[str]:
    """file: URLs of the image's pages: the file itself when it is fit, else one converted file per frame."""
    from PIL import Image, ImageOps, ImageSequence

    with Image.open(source) as image:
        if _fit_as_is(image):
            return [source.as_uri()]
        lossy = image.format in ("JPEG", "MPO")
        pages = []
        for index, frame in enumerate(ImageSequence.Iterator(image)):
            if index >= TIFF_MAX_FRAMES:
                break
            page = ImageOps.exif_transpose(frame)  # phone photos come sideways otherwise
            page = page.convert("L" if page.mode in ("1", "L", "LA", "I", "I;16", "F") else "RGB")
            page.thumbnail((IMAGE_MAX_SIDE, IMAGE_MAX_SIDE))
            target = folder / f"{source.stem}-{index + 1}.{'jpg' if lossy else 'png'}"
            if lossy:
                page.save(target, "JPEG", quality=85)
            else:
                page.save(target, "PNG")
            pages.append(target.as_uri())
            if lossy:
                break  # an MPO's further frames are the same photo (depth, preview), not more pages
    return pages


def _read_pdf(path: Path):
    from pypdf import PdfReader, PdfWriter

    reader = PdfReader(path)
    if reader.is_encrypted:
        reader.decrypt("")
    # Pages held by a writer can have their rotation moved into their content before merging.
    pdf = PdfWriter(clone_from=reader)
    if not pdf.pages:
        raise ValueError("no pages")
    return pdf


def prepare_scan(evidence, number: int, step_label: str, folder: Path) -> Scan:
    """Copy one evidence file from storage into ``folder``, check its fingerprint, and make it ready to embed."""
    scan = Scan(evidence=evidence, number=number, step_label=step_label)
    source = folder / f"evidence-{evidence.pk}{evidence.extension}"
    if not _copy_checked(evidence, source):
        scan.problem = _("The stored file no longer matches the fingerprint taken when it arrived; not embedded.")
        return scan
    try:
        if evidence.content_type == "application/pdf":
            scan.pdf = _read_pdf(source)
            scan.pdf_pages = len(scan.pdf.pages)
        elif evidence.content_type in IMAGE_TYPES:
            scan.images = _image_pages(source, folder)
        else:
            scan.problem = _("This kind of file cannot be embedded.")
    # The copy is intact; whatever a damaged scan makes a decoder raise, the volume notes it next to the
    # file's fingerprint instead of failing forever.
    except Exception as error:
        logger.warning("evidence %s could not be embedded: %s", evidence.pk, error)
        scan.pdf, scan.pdf_pages, scan.images = None, 0, []
        scan.problem = _("The file could not be read for embedding (%(error)s).") % {"error": type(error).__name__}
    return scan


def scan_fetcher(folder: Path | None):
    """WeasyPrint's URL fetcher for a rendering: data: URIs, and files of ``folder`` (the scans) when given."""
    from weasyprint.urls import URLFetcher

    class ScanFetcher(URLFetcher):
        def fetch(self, url, headers=None):
            if url.lower().startswith("file:"):
                path = Path(url2pathname(urlsplit(url).path)).resolve()
                if folder is None or not path.is_relative_to(folder.resolve()):
                    raise ValueError(f"not a file of this rendering: {url}")
            return super().fetch(url, headers)

    return ScanFetcher(allowed_protocols={"data", "file"} if folder else {"data"})
