"""Small JPEG previews of evidence: images through Pillow, the first page of a PDF through poppler's pdftoppm."""

import io
import logging
import shutil
import subprocess
import tempfile
from pathlib import Path

from PIL import Image, ImageOps

logger = logging.getLogger(__name__)

WIDTH = 200
# A very tall scan (a receipt roll) keeps its shape but not an endless preview.
MAX_HEIGHT = 400
PDFTOPPM_TIMEOUT_SECONDS = 30


def image_thumbnail(image: Image.Image) -> bytes:
    """A JPEG about WIDTH pixels wide of the image's first frame (decodes it fully: damage shows here)."""
    if image.format == "JPEG":
        # Decode at a reduced scale: far less memory for a large photo, same thumbnail.
        image.draft("RGB", (WIDTH * 2, MAX_HEIGHT * 2))
    image.load()
    image = ImageOps.exif_transpose(image)
    image = _as_rgb(image)
    image.thumbnail((WIDTH, MAX_HEIGHT))
    out = io.BytesIO()
    image.save(out, "JPEG", quality=80, optimize=True)
    return out.getvalue()


def _as_rgb(image: Image.Image) -> Image.Image:
    if image.mode in ("I;16", "I;16B", "I;16L", "I;16N", "I"):
        # 16-bit greyscale scans: scale down to 8 bits instead of clipping everything to white.
        image = image.convert("I").point(lambda value: value * (1 / 256)).convert("L")
    if image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info):
        image = image.convert("RGBA")
        background = Image.new("RGB", image.size, "white")
        background.paste(image, mask=image.getchannel("A"))
        return background
    return image.convert("RGB")


def pdf_thumbnail(file) -> bytes | None:
    """A JPEG of the PDF's first page, or None when pdftoppm is missing or cannot render it."""
    pdftoppm = shutil.which("pdftoppm")
    if pdftoppm is None:
        return None
    with tempfile.TemporaryDirectory(prefix="evidence-thumb-") as folder:
        source = Path(folder) / "source.pdf"
        file.seek(0)
        with source.open("wb") as out:
            shutil.copyfileobj(file, out, 1024 * 1024)
        file.seek(0)
        # -r 30 renders an A4 page at about 250 pixels wide; -scale-to-x bounds any odd page size.
        command = [pdftoppm, "-jpeg", "-r", "30", "-f", "1", "-l", "1", "-singlefile"]
        command += ["-scale-to-x", str(WIDTH), "-scale-to-y", "-1", str(source), str(Path(folder) / "page")]
        try:
            subprocess.run(command, check=True, capture_output=True, timeout=PDFTOPPM_TIMEOUT_SECONDS)
            with Image.open(Path(folder) / "page.jpg") as page:
                return image_thumbnail(page)
        except Exception as error:  # a preview is a convenience: the PDF itself was already checked
            logger.warning("no thumbnail for a PDF: %s", error)
            return None
