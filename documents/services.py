"""Accepting evidence files: checked by content and size, fingerprinted, stored under a server name."""

import hashlib

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.utils.translation import gettext as _

from .filetypes import ACCEPTED_TYPES_TEXT, sniff
from .models import Evidence


def evidence_check(*, upload: UploadedFile) -> tuple[str, str]:
    """Return (mime type, extension) or raise ValidationError with a reason the user can act on."""
    if upload.size > settings.EVIDENCE_MAX_BYTES:
        raise ValidationError(
            _("%(name)s is too large (%(size)s MB); the limit is %(limit)s MB.")
            % {
                "name": upload.name,
                "size": round(upload.size / 1048576, 1),
                "limit": settings.EVIDENCE_MAX_BYTES // 1048576,
            }
        )
    upload.seek(0)
    head = upload.read(16)
    upload.seek(0)
    recognised = sniff(head)
    if recognised is None:
        raise ValidationError(
            _("%(name)s is not a %(types)s file.") % {"name": upload.name, "types": ACCEPTED_TYPES_TEXT}
        )
    return recognised


def evidence_store(*, matter, step: str, upload: UploadedFile, user, step_record=None, meeting=None) -> Evidence:
    mime, extension = evidence_check(upload=upload)
    digest = hashlib.sha256()
    for chunk in upload.chunks():
        digest.update(chunk)
    upload.seek(0)
    evidence = Evidence(
        matter=matter,
        step=step,
        step_record=step_record,
        meeting=meeting,
        original_name=upload.name[-255:],
        content_type=mime,
        extension=extension,
        size=upload.size,
        sha256=digest.hexdigest(),
        uploaded_by=user,
    )
    evidence.file.save("upload", upload, save=False)
    evidence.save()
    return evidence
