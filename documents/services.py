"""Accepting evidence files: checked by content and size, fingerprinted, stored under a server name."""

import os
import unicodedata
import uuid
from collections.abc import Sequence

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.db.models import Max
from django.utils.translation import gettext as _

from flows.models import Matter, Step
from organizations.jurisdiction import VILLAGE_ROLES, can_act

from .digests import fingerprint_chunks
from .filetypes import ACCEPTED_TYPES_TEXT, Inspection, inspect_content, sniff
from .models import AccessLog, Evidence

# One submission of the capture page: more pages than this belong in a PDF from a scanner.
MAX_FILES_PER_SUBMISSION = 60
ORIGINAL_NAME_LENGTH = 255


def clean_original_name(name) -> str:
    """The uploader's file name as harmless data: a basename without control characters, at most 255 long."""
    name = str(name or "").replace("\\", "/").rsplit("/", 1)[-1]
    # NUL and every other control or format character (including bidirectional overrides) go.
    name = "".join(char for char in name if unicodedata.category(char)[0] != "C").strip()
    if not name.strip("."):
        return "upload"
    if len(name) > ORIGINAL_NAME_LENGTH:
        stem, extension = os.path.splitext(name)
        extension = extension[:16]
        name = stem[: ORIGINAL_NAME_LENGTH - len(extension)] + extension
    return name


def evidence_inspect(*, upload: UploadedFile, with_thumbnail: bool = True) -> Inspection:
    """Size, type by content and a safe read of the whole file; ValidationError with a reason the user can act on."""
    name = clean_original_name(upload.name)
    if upload.size is not None and upload.size > settings.EVIDENCE_MAX_BYTES:
        raise ValidationError(
            _("%(name)s is too large (%(size)s MB); the limit is %(limit)s MB.")
            % {
                "name": name,
                "size": round(upload.size / 1048576, 1),
                "limit": settings.EVIDENCE_MAX_BYTES // 1048576,
            }
        )
    if not upload.size:
        raise ValidationError(_("%(name)s is empty.") % {"name": name})
    upload.seek(0)
    head = upload.read(16)
    upload.seek(0)
    recognised = sniff(head)
    if recognised is None:
        raise ValidationError(_("%(name)s is not a %(types)s file.") % {"name": name, "types": ACCEPTED_TYPES_TEXT})
    mime, extension = recognised
    page_count, thumbnail = inspect_content(upload, name=name, mime=mime, with_thumbnail=with_thumbnail)
    return Inspection(mime=mime, extension=extension, page_count=page_count, thumbnail=thumbnail)


def evidence_check(*, upload: UploadedFile) -> tuple[str, str]:
    """Return (mime type, extension) or raise ValidationError with a reason the user can act on."""
    inspection = evidence_inspect(upload=upload, with_thumbnail=False)
    return inspection.mime, inspection.extension


def evidence_next_position(*, matter: Matter, step: str) -> int:
    last = Evidence.objects.filter(matter=matter, step=step).aggregate(last=Max("position"))["last"]
    return 0 if last is None else last + 1


def evidence_store(
    *,
    matter,
    step: str,
    upload: UploadedFile,
    user,
    step_record=None,
    meeting=None,
    attendance=None,
    position: int | None = None,
) -> Evidence:
    """Check, fingerprint and store one file as evidence of a step; it goes after the step's files unless told."""
    inspection = evidence_inspect(upload=upload)
    upload.seek(0)
    fingerprint = fingerprint_chunks(upload.chunks())
    upload.seek(0)
    if position is None:
        position = evidence_next_position(matter=matter, step=step)
    evidence = Evidence(
        matter=matter,
        step=step,
        step_record=step_record,
        meeting=meeting,
        attendance=attendance,
        original_name=clean_original_name(upload.name),
        content_type=inspection.mime,
        extension=inspection.extension,
        size=upload.size,
        sha256=fingerprint.sha256,
        sm3=fingerprint.sm3,
        page_count=inspection.page_count,
        position=position,
        uploaded_by=user,
    )
    # evidence_path() names the stored file; the name given here is ignored.
    evidence.file.save("upload", upload, save=False)
    upload.seek(0)
    try:
        if inspection.thumbnail:
            evidence.thumbnail.save(f"{uuid.uuid4().hex}.jpg", ContentFile(inspection.thumbnail), save=False)
        evidence.full_clean()
        evidence.save()
    except Exception:
        _delete_files(evidence)
        raise
    return evidence


def _delete_files(evidence: Evidence) -> None:
    for field in (evidence.file, evidence.thumbnail):
        if field:
            field.storage.delete(field.name)


# --- the capture page -----------------------------------------------------------------------


def evidence_may_add(*, user, matter: Matter) -> bool:
    """Village secretaries, cashiers and supervisors of the matter's village add scans while it is open."""
    return matter.is_open and can_act(user, matter.organization, VILLAGE_ROLES)


def evidence_steps(matter: Matter) -> list[str]:
    """Steps a scan can prove: those the matter has reached, up to the one it waits at (never the archive)."""
    path = [step for step in matter.required_steps if step != Step.ARCHIVE]
    if matter.next_step in path:
        path = path[: path.index(matter.next_step) + 1]
    return path


def evidence_add(*, user, matter: Matter, step: str, uploads: Sequence[UploadedFile]) -> list[Evidence]:
    """Add pages and files to a step of an open matter, all or none, in the order given."""
    if not evidence_may_add(user=user, matter=matter):
        raise PermissionDenied
    if step not in evidence_steps(matter):
        raise ValidationError(_("Scans can be added only to a step this matter has reached."))
    if not uploads:
        raise ValidationError(_("Take pages with the camera or choose files first."))
    if len(uploads) > MAX_FILES_PER_SUBMISSION:
        raise ValidationError(
            _("At most %(limit)s files can be sent at once; send the rest separately.")
            % {"limit": MAX_FILES_PER_SUBMISSION}
        )
    errors = []
    for upload in uploads:
        try:
            evidence_check(upload=upload)
        except ValidationError as error:
            errors.extend(error.messages)
    if errors:
        raise ValidationError(errors)
    stored: list[Evidence] = []
    try:
        with transaction.atomic():
            # The lock keeps two submissions to the same step from taking the same positions.
            matter = Matter.objects.select_for_update().select_related("organization").get(pk=matter.pk)
            if not evidence_may_add(user=user, matter=matter):
                raise PermissionDenied
            start = evidence_next_position(matter=matter, step=step)
            for offset, upload in enumerate(uploads):
                stored.append(
                    evidence_store(matter=matter, step=step, upload=upload, user=user, position=start + offset)
                )
    except BaseException:
        for evidence in stored:
            _delete_files(evidence)
        raise
    return stored


# --- the access log ---------------------------------------------------------------------------


def access_log_record(
    *, user, action: str, matter=None, evidence=None, document=None, detail: str = "", address: str | None = None
) -> AccessLog:
    """Write who opened what, and from where; the county administrator reads these rows."""
    entry = AccessLog(
        user=user,
        action=action,
        matter=matter,
        evidence=evidence,
        document=document,
        detail=detail[:300],
        address=address or None,
    )
    entry.full_clean()
    entry.save()
    return entry
