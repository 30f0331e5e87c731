"""Recognising an uploaded file's real type from its first bytes, never from its name."""

from django.utils.translation import gettext_lazy as _

# (magic prefix, MIME type, extension the server gives the stored file)
SIGNATURES = (
    (b"%PDF-", "application/pdf", ".pdf"),
    (b"\xff\xd8\xff", "image/jpeg", ".jpg"),
    (b"\x89PNG\r\n\x1a\n", "image/png", ".png"),
    (b"II*\x00", "image/tiff", ".tif"),
    (b"MM\x00*", "image/tiff", ".tif"),
)

ACCEPTED_TYPES_TEXT = _("PDF, JPEG, PNG or TIFF")


def sniff(head: bytes) -> tuple[str, str] | None:
    for prefix, mime, extension in SIGNATURES:
        if head.startswith(prefix):
            return mime, extension
    return None
