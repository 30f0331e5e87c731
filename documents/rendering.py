"""PDFs of the archive, rendered by a Celery worker: a matter's dossier (案卷), meeting minutes, printable notices.

Requests (``*_request``) only create a PENDING RenderedDocument and queue the worker after commit;
``render_document`` does the work. Scans: images are embedded inline in their step's section, one
page per image (per frame for a multi-page TIFF); PDF scans go to the appendix (附件) in step order,
where WeasyPrint lays out one placeholder page per scan page, with its own caption, page number and
verification code, and pypdf then draws the scan page into the placeholder. So the catalogue, the
"page X of Y" footer and the page count hold for the scans too.
"""

import hashlib
import logging
import re
import secrets
import tempfile
from io import BytesIO
from pathlib import Path

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import NoReverseMatch, reverse
from django.utils import timezone, translation
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from flows.models import SPINE, Decision, MatterStatus, Meeting, Step
from organizations.models import OrganizationKind
from organizations.people import display_name
from protection.fields import BlindIndexField, SealedCharField
from protection.masking import mask_id_number

from .amount_words import rmb_uppercase
from .digests import sm3_hex
from .models import AccessAction, AccessLog, CorrectionRequest, CorrectionStatus, RenderedDocument, RenderStatus
from .render_lease import render_claim
from .scans import Scan, prepare_scan, scan_fetcher
from .services import access_log_record

logger = logging.getLogger(__name__)

DEFAULT_SITE_URL = "http://127.0.0.1:8000"
PX_TO_PT = 0.75  # WeasyPrint lays out in CSS px; its PDF is in points
# The box a PDF scan page is drawn into, inside a placeholder page of the appendix (see pdf/styles.css).
SLOT_WIDTH_MM = 178
SLOT_HEIGHT_MM = 236
DOSSIER_PDF_VARIANT = "pdf/a-3b"


# --- requests --------------------------------------------------------------------------------------


def _new_verification_code() -> str:
    while True:
        code = secrets.token_urlsafe(12)
        if not RenderedDocument.objects.filter(verification_code=code).exists():
            return code


def _queue(document: RenderedDocument) -> None:
    from .tasks import render_queue

    # After commit; a broker that is down must not undo the write that asked for the PDF: the status
    # view shows it pending, and beat's sweep queues it once the broker is back.
    transaction.on_commit(lambda: render_queue(document.pk))


def document_language(language: str | None) -> str:
    """The language a document is printed in: the site's unless one of the site's languages is chosen."""
    if not language:
        return settings.LANGUAGE_CODE
    if language not in dict(settings.LANGUAGES):
        raise ValidationError({"language": _("Choose one of the languages documents are printed in.")})
    return language


def _request(
    kind: str, *, requested_by=None, language: str | None = None, fresh: bool = False, **target
) -> RenderedDocument:
    """``requested_by`` follows the job's progress live; None when the system asks (on archiving).
    ``language`` is the requester's choice for this document; without one it is the site's.

    ``fresh``: the target became what the document is of in the caller's transaction (a matter archived in
    it), so it has no document of the kind yet: none is looked for or superseded, no savepoint is opened,
    and the target, a row in hand, is not read again to validate it. The verification code's 96 random
    bits are not looked up either: its unique index refuses the one clash it could ever be."""
    language = document_language(language)
    with transaction.atomic(savepoint=not fresh):
        if not fresh:
            current = (
                RenderedDocument.objects.select_for_update(of=("self",))
                .filter(kind=kind, superseded_at__isnull=True, **target)
                .order_by("-pk")
                .first()
            )
            if current is not None and current.status == RenderStatus.PENDING and current.language == language:
                # Not started yet: it will read the data as it is when it starts. Queue it again in
                # case the first message was lost; rendering a document twice is harmless.
                _queue(current)
                return current
            RenderedDocument.objects.filter(kind=kind, superseded_at__isnull=True, **target).update(
                superseded_at=timezone.now()
            )
        document = RenderedDocument(
            kind=kind,
            verification_code=secrets.token_urlsafe(12) if fresh else _new_verification_code(),
            requested_by=requested_by,
            language=language,
            **target,
        )
        if fresh:
            document.full_clean(exclude=tuple(target), validate_unique=False)
        else:
            document.full_clean()
        document.save()
        _queue(document)
    return document


def dossier_request(
    *, matter, requested_by=None, language: str | None = None, archived_now: bool = False
) -> RenderedDocument:
    """Queue the dossier (案卷) of an archived matter; it supersedes the matter's earlier dossiers.

    ``archived_now``: the matter was archived in the caller's transaction, so it has no dossier yet."""
    if matter.status != MatterStatus.ARCHIVED:
        raise ValidationError(_("Only an archived matter has a dossier."))
    return _request(
        RenderedDocument.Kind.DOSSIER, matter=matter, requested_by=requested_by, language=language, fresh=archived_now
    )


def minutes_request(*, meeting, requested_by=None, language: str | None = None) -> RenderedDocument:
    """Queue the minutes PDF of a meeting; it supersedes the meeting's earlier minutes PDFs."""
    return _request(RenderedDocument.Kind.MINUTES, meeting=meeting, requested_by=requested_by, language=language)


def notice_request(*, notice, requested_by=None, language: str | None = None) -> RenderedDocument:
    """Queue the printable notice for the physical board; it supersedes the notice's earlier prints."""
    return _request(RenderedDocument.Kind.NOTICE, notice=notice, requested_by=requested_by, language=language)


def approval_form_request(*, matter, requested_by=None, language: str | None = None) -> RenderedDocument:
    """Queue the printable approval form (审批表) of a matter as it stands; it supersedes the earlier prints."""
    return _request(RenderedDocument.Kind.APPROVAL_FORM, matter=matter, requested_by=requested_by, language=language)


def current_document(*, kind: str, **target) -> RenderedDocument | None:
    return RenderedDocument.objects.filter(kind=kind, superseded_at__isnull=True, **target).order_by("-pk").first()


def document_organization(document: RenderedDocument):
    """The organisation whose jurisdiction covers the document."""
    if document.matter_id:
        return document.matter.organization
    if document.meeting_id:
        return document.meeting.organization
    return document.notice.organization


def document_subject(document: RenderedDocument) -> str:
    """What the document is of, in words: the archive number, the meeting, or the notice."""
    if document.matter_id:
        return document.matter.archive_number or str(document.matter)
    if document.meeting_id:
        return str(document.meeting)
    return str(document.notice)


def access_log_document(*, user, document: RenderedDocument, address: str | None = None) -> AccessLog:
    """Log an opening of a rendered document: a dossier as open_dossier, minutes and notices as download_file."""
    action = AccessAction.OPEN_DOSSIER if document.kind == RenderedDocument.Kind.DOSSIER else AccessAction.DOWNLOAD_FILE
    matter = document.matter if document.matter_id else (document.notice.matter if document.notice_id else None)
    return access_log_record(
        user=user,
        action=action,
        matter=matter,
        document=document,
        detail=f"{document.get_kind_display()}: {document_subject(document)}",
        address=address,
    )


# --- URLs printed on paper -------------------------------------------------------------------------


def site_url(path: str) -> str:
    return (getattr(settings, "SITE_URL", "") or DEFAULT_SITE_URL).rstrip("/") + path


def verification_url(code: str) -> str:
    try:
        path = reverse("documents:verify_code", args=[code])
    except NoReverseMatch:
        # The verification page belongs to the ledger part of the archive; until it is wired in,
        # print the path it is planned at rather than fail the volume.
        logger.warning("documents:verify_code is not routed; printing the planned path")
        path = f"/documents/verify/{code}/"
    return site_url(path)


def qr_data_uri(url: str) -> str:
    import segno

    return segno.make(url, error="m").svg_data_uri(scale=4, border=2)


def _css_string(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", " ")
    return f'"{escaped}"'


def page_counter_css() -> str:
    """A CSS ``content`` value for "page X of Y", from a translatable template with %(page)s and %(pages)s."""
    template = _("Page %(page)s of %(pages)s")
    parts = []
    for piece in re.split(r"(%\(pages?\)s)", template):
        if piece == "%(page)s":
            parts.append("counter(page)")
        elif piece == "%(pages)s":
            parts.append("counter(pages)")
        elif piece:
            parts.append(_css_string(piece))
    return " ".join(parts)


def _footer_context(document: RenderedDocument) -> dict:
    return {
        "footer_page_css": mark_safe(page_counter_css()),  # built from escaped strings
        "footer_code_css": mark_safe(
            _css_string(_("Verification code: %(code)s") % {"code": document.verification_code})
        ),
        "slot_width_mm": SLOT_WIDTH_MM,
        "slot_height_mm": SLOT_HEIGHT_MM,
    }


# --- scans: documents/scans.py ----------------------------------------------------------------------


def _step_order(step: str) -> int:
    values = [step.value for step in SPINE]
    return values.index(step) if step in values else len(values)


def _step_label(step: str) -> str:
    return Step(step).label if step in Step.values else step


def ordered_evidence(matter) -> list:
    """The matter's files in dossier order: by step of the spine, then as the uploader ordered the pages."""
    files = matter.evidence.select_related("uploaded_by")
    return sorted(files, key=lambda evidence: (_step_order(evidence.step), evidence.position, evidence.pk))


# --- contexts ----------------------------------------------------------------------------------------


def _application_html(matter) -> str:
    from flows.catalogue import flow_for

    try:
        template = flow_for(matter.transaction_type).detail_template
        if template:
            return render_to_string(template, {"matter": matter})
    # A detail page written for the browser may need what a worker lacks; the generic table
    # below still shows every field of the application.
    except Exception as error:
        logger.warning("detail template of %s failed in the dossier: %s", matter.transaction_type, error)
    return render_to_string("documents/pdf/application_fields.html", {"rows": application_fields(matter)})


def _field_rows(instance) -> list[tuple[str, str]]:
    rows = []
    for model_field in instance._meta.concrete_fields:
        if model_field.name in ("id", "matter") or isinstance(model_field, BlindIndexField):
            continue
        if isinstance(model_field, SealedCharField):
            # Personal numbers go on paper masked (GB/T 35273), like everywhere else.
            value = mask_id_number(getattr(instance, model_field.name) or "")
        elif model_field.choices:
            value = getattr(instance, f"get_{model_field.name}_display")()
        else:
            value = getattr(instance, model_field.name)
        rows.append((str(model_field.verbose_name), "" if value is None else str(value)))
    return rows


def application_fields(matter) -> list[tuple[str, str]]:
    """The application model's fields as (label, value), for a type without a usable detail template."""
    application = getattr(matter, matter.transaction_type, None)
    if application is not None:
        return _field_rows(application)
    rows = []
    for candidate in matter.member_candidates.all():
        rows.extend(_field_rows(candidate))
    return rows


def _place(organization, kind: str):
    if organization is None:
        return None
    return organization if organization.kind == kind else organization.ancestor_of_kind(kind)


def dossier_context(document: RenderedDocument, scans: list[Scan]) -> dict:
    matter = document.matter
    records = list(matter.step_records.select_related("actor", "meeting").order_by("acted_at", "pk"))
    sections = []
    for step in [*[step.value for step in SPINE], *sorted({s.evidence.step for s in scans} - set(Step.values))]:
        step_records = [record for record in records if record.step == step]
        step_scans = [scan for scan in scans if scan.evidence.step == step]
        if step_records or step_scans:
            sections.append(
                {"anchor": f"step-{step}", "label": _step_label(step), "records": step_records, "scans": step_scans}
            )
    meetings = (
        Meeting.objects.filter(decisions__matter=matter)
        .distinct()
        .select_related("organization", "recorded_by")
        .prefetch_related("attendees", "decisions__matter")
        .order_by("held_on", "pk")
    )
    notices = matter.notices.prefetch_related("objections__handled_by").order_by("published_at", "pk")
    corrections = (
        CorrectionRequest.objects.filter(matter=matter, status=CorrectionStatus.APPROVED)
        .select_related("requested_by", "township_by", "county_by")
        .order_by("county_at", "pk")
    )
    url = verification_url(document.verification_code)
    return {
        **_footer_context(document),
        "document": document,
        "matter": matter,
        "collective": matter.organization,
        "village": _place(matter.organization, OrganizationKind.VILLAGE),
        "township": _place(matter.organization, OrganizationKind.TOWNSHIP),
        "application_html": mark_safe(_application_html(matter)),  # a rendered, escaped template
        "records": records,
        "sections": sections,
        "meetings": list(meetings),
        "notices": list(notices),
        "corrections": list(corrections),
        "pdf_scans": [scan for scan in scans if scan.is_pdf],
        "scans": scans,
        "verification_url": url,
        "qr": qr_data_uri(url),
        "rendered_on": timezone.localdate(),
    }


def minutes_context(document: RenderedDocument) -> dict:
    meeting = (
        Meeting.objects.select_related("organization", "recorded_by")
        .prefetch_related("attendees", "decisions__matter")
        .get(pk=document.meeting_id)
    )
    # How each attended (in person, online, by whose proxy); meetings recorded before ways have none.
    ways = {row.member_id: row for row in meeting.attendance.select_related("proxy_holder")}
    attendees = sorted(meeting.attendees.all(), key=lambda member: (member.household, member.pk))
    for member in attendees:
        member.attendance = ways.get(member.pk)
    return {
        **_footer_context(document),
        "document": document,
        "meeting": meeting,
        "collective": meeting.organization,
        "village": _place(meeting.organization, OrganizationKind.VILLAGE),
        "attendees": attendees,
        "decisions": list(meeting.decisions.all()),
        "recorded_by": display_name(meeting.recorded_by),
    }


# The seal box of each step on the approval form: whose seal proves the step.
SEAL_HOLDERS = {
    Step.PROPOSE: gettext_lazy("Village party organisation (seal)"),
    Step.DELIBERATE: gettext_lazy("Village two committees (seal)"),
    Step.REVIEW_BY_PARTY_MEMBERS: gettext_lazy("Village party organisation (seal)"),
    Step.RESOLVE_BY_MEMBERS: gettext_lazy("Collective economic organisation (seal)"),
    Step.PUBLISH_RESOLUTION: gettext_lazy("Village supervision committee (seal)"),
    Step.CHECK_BY_TOWNSHIP: gettext_lazy("Township agricultural economy station (seal)"),
    Step.APPROVE_BY_TOWNSHIP: gettext_lazy("Township government (seal)"),
    Step.IMPLEMENT: gettext_lazy("Collective economic organisation (seal)"),
    Step.PUBLISH_RESULT: gettext_lazy("Village supervision committee (seal)"),
}


def approval_form_context(document: RenderedDocument) -> dict:
    """One A4 page: the matter, its amount in figures and in capitals, and each step's opinion, signer and date."""
    matter = document.matter
    records = list(
        matter.step_records.exclude(decision=Decision.DELEGATE)
        .select_related("actor", "on_behalf_of", "meeting")
        .order_by("acted_at", "pk")
    )
    submitted = next((record for record in records if record.step == Step.APPLY), None)
    rows = []
    for step in matter.required_steps:
        if step in (Step.APPLY, Step.ARCHIVE):
            continue
        done = [record for record in records if record.step == step]
        rows.append(
            {
                "step": step,
                "label": _step_label(step),
                "record": done[-1] if done else None,
                "seal": SEAL_HOLDERS.get(step, ""),
            }
        )
    url = verification_url(document.verification_code)
    return {
        **_footer_context(document),
        "document": document,
        "matter": matter,
        "collective": matter.organization,
        "village": _place(matter.organization, OrganizationKind.VILLAGE),
        "township": _place(matter.organization, OrganizationKind.TOWNSHIP),
        "applicant": display_name(matter.applicant),
        "submitted": submitted,
        "amount_words": rmb_uppercase(matter.amount),
        "rows": rows,
        "verification_url": url,
        "qr": qr_data_uri(url),
        "printed_on": timezone.localdate(),
    }


def notice_context(document: RenderedDocument) -> dict:
    notice = document.notice
    village = _place(notice.organization, OrganizationKind.VILLAGE)
    url = site_url(reverse("board:notice", args=[notice.pk]))
    return {
        **_footer_context(document),
        "document": document,
        "notice": notice,
        "collective": notice.organization,
        "village": village,
        "board_url": url,
        # The QR leads to the notice's proof page: its text, its fingerprint in the log, and the board link.
        "qr": qr_data_uri(verification_url(document.verification_code)),
    }


# --- rendering ---------------------------------------------------------------------------------------


def _progress(document: RenderedDocument, progress: int, **fields) -> None:
    # Saved at once, outside any transaction of the caller, so the status view sees it move.
    document.progress = progress
    for name, value in fields.items():
        setattr(document, name, value)
    RenderedDocument.objects.filter(pk=document.pk).update(progress=progress, **fields)
    # Imported here: flows.services imports this module.
    from flows.events import job_progress

    job_progress(document=document)


def _write_pdf(html: str, folder=None, variant: str | None = None):
    """Lay out the HTML; returns (WeasyPrint document, PDF bytes). No network: data: URIs, and the scans'
    files when ``folder`` (the rendering's work folder) is given.

    ``variant``: a PDF variant of WeasyPrint, e.g. PDF/A-3b for the archived dossier (the archive
    package later embeds its scans and proofs in it, which PDF/A-3 allows)."""
    from weasyprint import HTML

    laid_out = HTML(string=html, base_url=site_url("/"), url_fetcher=scan_fetcher(folder)).render()
    return laid_out, laid_out.write_pdf(pdf_variant=variant)


def _draw_scans(pdf: bytes, laid_out, scans: list[Scan]) -> bytes:
    """Draw each PDF scan page into its placeholder page, scaled to fit the slot, and return the new PDF."""
    from pypdf import PdfReader, PdfWriter, Transformation

    slots = {}
    for scan in scans:
        for page_number, anchor in scan.slots:
            slots[anchor] = (scan, page_number)
    if not slots:
        return pdf
    reader = PdfReader(BytesIO(pdf))
    writer = PdfWriter(clone_from=reader)
    writer.pdf_header = reader.pdf_header  # a PDF/A-3 dossier stays a PDF 1.7 file
    for index, page in enumerate(laid_out.pages):
        for anchor, (x1, y1, x2, y2) in page.anchors.items():
            if anchor not in slots:
                continue
            scan, page_number = slots[anchor]
            target = writer.pages[index]
            source = scan.pdf.pages[page_number - 1]
            source.transfer_rotation_to_content()
            box = source.mediabox
            width, height = float(box.width), float(box.height)
            # The slot's box as laid out (CSS px from the top left) in PDF points from the bottom left.
            slot_left, slot_top = x1 * PX_TO_PT, float(target.mediabox.top) - y1 * PX_TO_PT
            slot_width, slot_height = (x2 - x1) * PX_TO_PT, (y2 - y1) * PX_TO_PT
            scale = min(slot_width / width, slot_height / height)
            left = slot_left + (slot_width - width * scale) / 2
            bottom = slot_top - slot_height + (slot_height - height * scale) / 2
            transform = (
                Transformation().translate(-float(box.left), -float(box.bottom)).scale(scale).translate(left, bottom)
            )
            target.merge_transformed_page(source, transform)
    buffer = BytesIO()
    writer.write(buffer)
    return buffer.getvalue()


def _page_count(pdf: bytes) -> int:
    from pypdf import PdfReader

    return len(PdfReader(BytesIO(pdf)).pages)


def _build(document: RenderedDocument) -> bytes:
    kind = document.kind
    if kind == RenderedDocument.Kind.DOSSIER:
        # The scans' files live in a folder of this rendering only, gone when it ends. Progress is told
        # at fixed stages, never per scan: the job's queries stay the same however many scans there are.
        with tempfile.TemporaryDirectory(prefix="dossier-") as folder:
            files = ordered_evidence(document.matter)
            scans = [
                prepare_scan(evidence, number, _step_label(evidence.step), Path(folder))
                for number, evidence in enumerate(files, start=1)
            ]
            _progress(document, 40)
            html = render_to_string("documents/pdf/dossier.html", dossier_context(document, scans))
            _progress(document, 60)
            laid_out, pdf = _write_pdf(html, Path(folder), variant=DOSSIER_PDF_VARIANT)
            _progress(document, 80)
            pdf = _draw_scans(pdf, laid_out, scans)
            _progress(document, 90)
            return pdf
    if kind == RenderedDocument.Kind.MINUTES:
        html = render_to_string("documents/pdf/minutes.html", minutes_context(document))
    elif kind == RenderedDocument.Kind.APPROVAL_FORM:
        html = render_to_string("documents/pdf/approval_form.html", approval_form_context(document))
    else:
        html = render_to_string("documents/pdf/notice.html", notice_context(document))
    _progress(document, 40)
    _laid_out, pdf = _write_pdf(html)
    _progress(document, 90)
    return pdf


def download_name(document: RenderedDocument) -> str:
    if document.kind == RenderedDocument.Kind.DOSSIER and document.matter.archive_number:
        return f"dossier-{document.matter.archive_number}.pdf"
    if document.kind == RenderedDocument.Kind.APPROVAL_FORM:
        return f"approval-form-{document.matter_id}-{document.pk}.pdf"
    return f"{document.kind}-{document.pk}.pdf"


def render_document(document: RenderedDocument) -> RenderedDocument:
    """Render the document's PDF and store it; one already DONE is left alone. Failures are recorded and re-raised."""
    document = RenderedDocument.objects.select_related(
        "matter__organization", "meeting__organization", "notice__organization", "notice__matter"
    ).get(pk=document.pk)
    if document.status == RenderStatus.DONE and document.pdf:
        return document
    if not render_claim(document):
        return document  # done meanwhile, held by a live worker, or given up on (documents/render_lease.py)
    _progress(document, 5)
    try:
        # A document of the collective, in the language stored with its request (the site's unless the
        # requester chose another), never in the language of whichever request or worker runs this.
        with translation.override(document.language or settings.LANGUAGE_CODE):
            pdf = _build(document)
        return _store(document, pdf)
    except Exception as error:
        _progress(document, document.progress, status=RenderStatus.FAILED, error=f"{type(error).__name__}: {error}")
        raise


def _store(document: RenderedDocument, pdf: bytes) -> RenderedDocument:
    digest = hashlib.sha256(pdf).hexdigest()
    pages = _page_count(pdf)
    stored_name = ""
    try:
        with transaction.atomic():
            locked = RenderedDocument.objects.select_for_update(of=("self",)).get(pk=document.pk)
            if locked.status == RenderStatus.DONE and locked.pdf:
                return locked  # another worker given the same document finished first
            locked.pdf.save(download_name(document), ContentFile(pdf), save=False)
            stored_name = locked.pdf.name
            locked.sha256 = digest
            locked.page_count = pages
            locked.rendered_at = timezone.now()
            locked.status = RenderStatus.DONE
            locked.progress = 100
            locked.error = ""
            # Saving logs the document (documents/coverage.py): its SHA-256 and SM3 go into the ledger.
            locked.sm3 = sm3_hex(pdf)
            locked.save()
    except Exception:
        if stored_name:
            # The row went back to its old state; leave no orphan file behind.
            document.pdf.storage.delete(stored_name)
        raise
    from flows.events import job_done

    job_done(document=locked)
    return locked
