"""Recognising an uploaded file's real type from its content, never from its name, and reading it safely.

The first bytes say what a file claims to be; then the file must really open as that: images through
Pillow (pixel count capped before anything is decoded, structure verified, pixels decoded), PDFs
through pypdf (parsed, not encrypted, at least one page).
"""

from contextlib import contextmanager
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from PIL import Image, ImageFile, UnidentifiedImageError
from pypdf import PdfReader

from . import thumbnails

# (magic prefix, MIME type, extension the server gives the stored file)
SIGNATURES = (
    (b"%PDF-", "application/pdf", ".pdf"),
    (b"\xff\xd8\xff", "image/jpeg", ".jpg"),
    (b"\x89PNG\r\n\x1a\n", "image/png", ".png"),
    (b"II*\x00", "image/tiff", ".tif"),
    (b"MM\x00*", "image/tiff", ".tif"),
)
# What Pillow must find inside each accepted image type (phones write multi-picture JPEGs as MPO).
PILLOW_FORMATS = {"image/jpeg": {"JPEG", "MPO"}, "image/png": {"PNG"}, "image/tiff": {"TIFF"}}
TYPE_NAMES = {"application/pdf": "PDF", "image/jpeg": "JPEG", "image/png": "PNG", "image/tiff": "TIFF"}

ACCEPTED_TYPES_TEXT = gettext_lazy("PDF, JPEG, PNG or TIFF")
# What the browser's file chooser offers; the server still decides by content.
ACCEPT_ATTRIBUTE = "application/pdf,image/jpeg,image/png,image/tiff,.pdf,.jpg,.jpeg,.png,.tif,.tiff"

# A page scanned at 600 dpi on A3 is about 70 megapixels at most; 60 keeps room for real scans and
# refuses "decompression bombs" (a tiny file that would unpack into gigabytes of pixels).
DEFAULT_MAX_PIXELS = 60_000_000
# A multi-page TIFF with more frames than this is not a scan of paper.
MAX_TIFF_FRAMES = 500


@dataclass(frozen=True)
class Inspection:
    mime: str
    extension: str
    page_count: int
    thumbnail: bytes | None = None


def sniff(head: bytes) -> tuple[str, str] | None:
    for prefix, mime, extension in SIGNATURES:
        if head.startswith(prefix):
            return mime, extension
    return None


def max_pixels() -> int:
    return getattr(settings, "EVIDENCE_MAX_PIXELS", DEFAULT_MAX_PIXELS)


# Pillow's own guard reads the header inside Image.open(): it warns above this many pixels and refuses
# above twice as many, for every image this process opens (WeasyPrint's too). The explicit check in
# _check_pixels() applies the configured cap exactly, before any pixel is decoded.
Image.MAX_IMAGE_PIXELS = max_pixels()


def inspect_content(file, *, name: str, mime: str, with_thumbnail: bool = True) -> tuple[int, bytes | None]:
    """(page count, JPEG thumbnail or None) of a file whose magic bytes said ``mime``; ValidationError if unreadable."""
    if mime == "application/pdf":
        return _inspect_pdf(file, name=name, with_thumbnail=with_thumbnail)
    return _inspect_image(file, name=name, mime=mime, with_thumbnail=with_thumbnail)


def _damaged_image(name: str, mime: str) -> ValidationError:
    return ValidationError(
        _("%(name)s could not be read as a %(type)s image; the file may be damaged.")
        % {"name": name, "type": TYPE_NAMES[mime]}
    )


def _too_many_pixels(name: str, width: int, height: int) -> ValidationError:
    return ValidationError(
        _(
            "%(name)s is %(width)s × %(height)s pixels, more than the %(limit)s megapixels a scan may have; "
            "scan it at a lower resolution."
        )
        % {"name": name, "width": width, "height": height, "limit": max_pixels() // 1_000_000}
    )


def _check_pixels(name: str, size: tuple[int, int]) -> None:
    width, height = size
    if width <= 0 or height <= 0:
        raise ValidationError(_("%(name)s has no pixels.") % {"name": name})
    if width * height > max_pixels():
        raise _too_many_pixels(name, width, height)


@contextmanager
def _truncated_images_refused():
    """Pillow decodes a truncated file only when ``ImageFile.LOAD_TRUNCATED_IMAGES`` is off; WeasyPrint turns it
    on for the whole process when it is imported (a worker rendering a PDF, a test): check with it off."""
    previous = ImageFile.LOAD_TRUNCATED_IMAGES
    ImageFile.LOAD_TRUNCATED_IMAGES = False
    try:
        yield
    finally:
        ImageFile.LOAD_TRUNCATED_IMAGES = previous


def _inspect_image(file, *, name: str, mime: str, with_thumbnail: bool) -> tuple[int, bytes | None]:
    with _truncated_images_refused():
        return _inspect_image_strictly(file, name=name, mime=mime, with_thumbnail=with_thumbnail)


def _inspect_image_strictly(file, *, name: str, mime: str, with_thumbnail: bool) -> tuple[int, bytes | None]:
    try:
        # Pass 1: header only. The size is checked before a single pixel is decoded, then verify()
        # walks the structure (chunk checksums for PNG).
        file.seek(0)
        with Image.open(file) as image:
            if image.format not in PILLOW_FORMATS[mime]:
                raise _damaged_image(name, mime)
            _check_pixels(name, image.size)
            frames = getattr(image, "n_frames", 1) if mime == "image/tiff" else 1
            if frames > MAX_TIFF_FRAMES:
                raise ValidationError(
                    _("%(name)s has %(count)s pages; a TIFF may have at most %(limit)s.")
                    % {"name": name, "count": frames, "limit": MAX_TIFF_FRAMES}
                )
            for index in range(1, frames):
                image.seek(index)
                _check_pixels(name, image.size)
            image.verify()
        # Pass 2: verify() leaves the image unusable, so open again and decode the first page for
        # real: a truncated or corrupt pixel stream fails here, and the result is the thumbnail.
        file.seek(0)
        with Image.open(file) as image:
            _check_pixels(name, image.size)
            thumbnail = thumbnails.image_thumbnail(image)
    except Image.DecompressionBombError as error:
        raise ValidationError(
            _("%(name)s would unpack into more than %(limit)s megapixels; it is refused.")
            % {"name": name, "limit": max_pixels() // 1_000_000}
        ) from error
    except ValidationError:
        raise
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, EOFError, MemoryError) as error:
        # SyntaxError is what Pillow's plugins raise for a malformed header.
        raise _damaged_image(name, mime) from error
    finally:
        file.seek(0)
    return frames, thumbnail if with_thumbnail else None


def _inspect_pdf(file, *, name: str, with_thumbnail: bool) -> tuple[int, bytes | None]:
    damaged = ValidationError(_("%(name)s could not be read as a PDF; the file may be damaged.") % {"name": name})
    try:
        file.seek(0)
        reader = PdfReader(file)
        if reader.is_encrypted:
            raise ValidationError(
                _("%(name)s is a password-protected (encrypted) PDF; save it without protection and upload it again.")
                % {"name": name}
            )
        pages = len(reader.pages)
    except ValidationError:
        raise
    except Exception as error:  # pypdf raises many kinds of error on a broken file; each one means "unreadable".
        raise damaged from error
    finally:
        file.seek(0)
    if pages < 1:
        raise ValidationError(_("%(name)s is a PDF without pages.") % {"name": name})
    thumbnail = thumbnails.pdf_thumbnail(file) if with_thumbnail else None
    file.seek(0)
    return pages, thumbnail
