"""Pages of the transparency log: the public check of a document (by code, by file) with its proof, the
verification packages and the verifier to download, the county's view of the log, and the endpoints
witnesses use (the latest checkpoint, consistency proofs, cosignatures, fork reports)."""

import base64
import re
from pathlib import Path

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse, HttpResponseBadRequest, JsonResponse
from django.http.request import RawPostDataException
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_POST

from flows.models import Matter
from organizations.jurisdiction import READ_ONLY_ROLES, can_see, get_for_user, user_posts, visible
from organizations.models import Role
from project.jobs import enqueue
from protection.guards import request_size_limit
from registers.models import ShareCertificate

from . import rendering
from .archive import NotArchived, archive_package
from .coverage import REGISTRY
from .ledger import sha256_of_chunks
from .ledger_checks import check_interval, latest_checks
from .ledger_verify import latest_leaf, ledger_verify_digest, ledger_verify_matter, prove
from .models import AccessAction, Evidence, LedgerEntry, RenderedDocument, RenderStatus, TreeHead
from .packages import VERIFIER_PATH, NotProvable, build_package, checkpoint_with_cosignatures, proof_only
from .sequencer import consistency_proof, latest_head
from .services import access_log_record
from .signing import log_public_keys
from .tasks import check_ledger
from .witness import WitnessRejected, cosignature_accept, fork_report_accept

# A dossier with all its scans can be far larger than one evidence file.
# The public check takes a file up to the evidence limit; the request may be a little larger (the form).
VERIFY_MAX_BYTES = settings.LEDGER_VERIFY_MAX_BYTES
VERIFY_REQUEST_MAX_BYTES = VERIFY_MAX_BYTES + 64 * 1024
CODE_PATTERN = re.compile(r"^[\w-]{1,32}$")
HEADS_SHOWN = 30

# Answers meant for programs (witnesses, verifiers), not for a person's browser.
PLAIN_TEXT = "text/plain; charset=utf-8"


class VerifyUploadForm(forms.Form):
    pdf = forms.FileField(label=gettext_lazy("PDF file"))

    def clean_pdf(self):
        upload = self.cleaned_data["pdf"]
        if upload.size > VERIFY_MAX_BYTES:
            raise forms.ValidationError(
                _("The file is too large to check here; the limit is %(limit)s MB.")
                % {"limit": VERIFY_MAX_BYTES // 1048576}
            )
        return upload


@request_size_limit(VERIFY_REQUEST_MAX_BYTES)
def verify(request):
    """Public: enter a document's verification code, or upload a PDF to check it against the log."""
    code = request.GET.get("code", "").strip()
    code_error = ""
    if code:
        if CODE_PATTERN.match(code):
            return redirect("documents:verify_code", code=code)
        code_error = _("That is not a verification code: it is printed under the QR code of the document.")
    result = None
    document = None
    form = VerifyUploadForm(request.POST, request.FILES) if request.method == "POST" else VerifyUploadForm()
    if form.is_bound and form.is_valid():
        result = ledger_verify_digest(digest=sha256_of_chunks(form.cleaned_data["pdf"].chunks()))
        if isinstance(result.document, RenderedDocument):
            document = result.document
    return render(
        request,
        "documents/verify.html",
        {"form": form, "code": code, "code_error": code_error, "result": result, "document": document},
    )


def _document_leaf(document: RenderedDocument) -> LedgerEntry | None:
    return latest_leaf(REGISTRY["documents.RenderedDocument"], document.pk)


def _document_by_code(code: str) -> RenderedDocument:
    document = (
        RenderedDocument.objects.select_related("matter", "notice", "meeting").filter(verification_code=code).first()
    )
    if document is None:
        raise Http404
    return document


def _document_proof(document: RenderedDocument):
    """(ok, reason, entry, proof) for a rendered document: its latest leaf proved under the latest head."""
    entry = _document_leaf(document)
    if entry is None or document.status != RenderStatus.DONE:
        return False, _("This document is not in the log yet; if it was just requested, check again later."), None, None
    logged = (entry.payload.get("files") or {}).get("pdf") or {}
    if (
        logged.get("sha256") != document.sha256
        or entry.payload["fields"].get("verification_code") != document.verification_code
    ):
        return (
            False,
            _("This document's fingerprint differs from the one the log recorded: it was changed."),
            entry,
            None,
        )
    proof = prove(entry)
    return proof.ok, proof.reason, entry, proof


def verify_code(request, code: str):
    """Public, for the phone that scanned the QR code: the document's fingerprint and its proof in the log.

    Nothing else of the matter is shown; a printed notice shows its text, which is public anyway.
    """
    try:
        document = _document_by_code(code)
    except Http404:
        # A page of its own, in the reader's language: someone holding a paper wants to know, not a debug page.
        return render(request, "documents/verify_unknown.html", {"code": code}, status=404)
    ok, reason, entry, proof = _document_proof(document)
    return render(
        request,
        "documents/verify_result.html",
        {
            "document": document,
            "matter": document.matter,
            "notice": document.notice if document.kind == RenderedDocument.Kind.NOTICE else None,
            "entry": entry,
            "proof": proof,
            "path": [step.hex() for step in proof.path] if proof else [],
            "ok": ok,
            "reason": reason,
            "keys": _keys(),
        },
    )


def _keys():
    try:
        return log_public_keys()
    except Exception:  # a missing key file is shown on the page as "no key"; the log check names it
        return []


def proof_download(request, code: str):
    """Public: the proof of a document (verification.json without the document), for whoever holds the paper."""
    document = _document_by_code(code)
    ok, reason, entry, _proof = _document_proof(document)
    if not ok:
        raise Http404(reason)
    response = HttpResponse(
        proof_only(subject=document.kind, entries=[entry]), content_type="application/json; charset=utf-8"
    )
    response["Content-Disposition"] = f'attachment; filename="verification-{document.verification_code}.json"'
    return response


def verifier_download(request):
    """Public: the stand-alone verifier, one Python file."""
    source = (Path(settings.BASE_DIR) / VERIFIER_PATH).read_bytes()
    response = HttpResponse(source, content_type="text/x-python; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="verify_package.py"'
    return response


def _zip_response(data: bytes, name: str) -> HttpResponse:
    response = HttpResponse(data, content_type="application/zip")
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    response["X-Content-Type-Options"] = "nosniff"
    return response


def _package(subject: str, entries: list, document: bytes | None, extension: str, name: str) -> HttpResponse:
    try:
        return _zip_response(
            build_package(subject=subject, entries=entries, document=document, extension=extension), name
        )
    except NotProvable as error:
        return HttpResponse(str(error), status=409, content_type=PLAIN_TEXT)


def _read(field_file) -> bytes:
    with field_file.storage.open(field_file.name, "rb") as handle:
        return handle.read()


def document_package(request, code: str):
    """A printed document with its proof. Notices are public; dossiers and minutes need the jurisdiction."""
    document = _document_by_code(code)
    if document.kind != RenderedDocument.Kind.NOTICE:
        if not request.user.is_authenticated or not can_see(request.user, rendering.document_organization(document)):
            raise Http404
    ok, reason, entry, _proof = _document_proof(document)
    if not ok:
        return HttpResponse(reason, status=409, content_type=PLAIN_TEXT)
    entries = [entry]
    if document.notice_id:
        notice_leaf = latest_leaf(REGISTRY["flows.Notice"], document.notice_id)
        entries += [notice_leaf] if notice_leaf is not None else []
    return _package(document.kind, entries, _read(document.pdf), ".pdf", f"package-{document.verification_code}.zip")


@login_required
def evidence_package(request, pk: int):
    evidence = get_for_user(request.user, Evidence.objects.select_related("matter"), pk, "matter__organization")
    entry = latest_leaf(REGISTRY["documents.Evidence"], evidence.pk)
    if entry is None:
        raise Http404
    return _package("file", [entry], _read(evidence.file), evidence.extension, f"package-evidence-{evidence.pk}.zip")


@login_required
def certificate_package(request, pk: int):
    certificate = get_for_user(
        request.user, ShareCertificate.objects.select_related("member__organization"), pk, "member__organization"
    )
    entry = latest_leaf(REGISTRY["registers.ShareCertificate"], certificate.pk)
    if entry is None:
        raise Http404
    document = _read(certificate.pdf) if certificate.pdf else None
    return _package("certificate", [entry], document, ".pdf", f"package-certificate-{certificate.number}.zip")


@login_required
def archive_package_download(request, matter_pk: int):
    """The archive volume as a package for a records office (documents/archive.py); logged like an opening."""
    matter = get_for_user(request.user, Matter.objects.select_related("organization", "applicant"), matter_pk)
    try:
        data = archive_package(matter=matter)
    except (NotArchived, NotProvable) as error:
        return HttpResponse(str(error), status=409, content_type=PLAIN_TEXT)
    access_log_record(
        user=request.user,
        action=AccessAction.OPEN_DOSSIER,
        matter=matter,
        detail=_("Archive package: %(number)s") % {"number": matter.archive_number},
        address=request.META.get("REMOTE_ADDR"),
    )
    return _zip_response(data, f"archive-{matter.archive_number or matter.pk}.zip")


# --- the county's page ---------------------------------------------------------------------------


def _may_read_ledger(user) -> bool:
    return any(post.role in READ_ONLY_ROLES for post in user_posts(user))


def _may_request_check(user) -> bool:
    """Checking the whole log is work: the county administrator may ask for one; an inspector only reads."""
    return any(post.role == Role.COUNTY_ADMIN for post in user_posts(user))


@login_required
def ledger(request):
    """County administrators and discipline inspectors: the latest stored check of the whole log (the check
    itself runs on a schedule, documents/ledger_checks.py), its signed heads, and one matter checked live."""
    if not _may_read_ledger(request.user):
        raise PermissionDenied
    matter_query = request.GET.get("matter", "").strip()
    matter_result = None
    matter = None
    if matter_query:
        matters = visible(request.user, Matter.objects.all())
        matter = matters.filter(archive_number=matter_query).first()
        if matter is None and matter_query.isdigit():
            matter = matters.filter(pk=int(matter_query)).first()
        if matter is not None:
            matter_result = ledger_verify_matter(matter=matter)
    heads = list(TreeHead.objects.order_by("-size").prefetch_related("cosignatures__witness")[:HEADS_SHOWN])
    return render(
        request,
        "documents/ledger.html",
        {
            **latest_checks(),
            "check_minutes": check_interval(False).seconds // 60,
            "file_check_hour": settings.LEDGER_FILE_CHECK_HOUR,
            "may_request_check": _may_request_check(request.user),
            "entry_count": LedgerEntry.objects.count(),
            "head": heads[0] if heads else None,
            "heads": heads,
            "head_count": TreeHead.objects.count(),
            "keys": _keys(),
            "matter_query": matter_query,
            "matter": matter,
            "matter_result": matter_result,
        },
    )


@login_required
@require_POST
def ledger_check_request(request):
    """A county administrator asks for a check of the whole log now (without the files); it runs as a job."""
    if not _may_request_check(request.user):
        raise PermissionDenied
    if latest_checks()["running_check"] is not None:
        messages.info(request, _("A check of the whole log is running now; its result shows here when it is done."))
    elif enqueue(check_ledger, False, request.user.pk):
        messages.success(request, _("A check of the whole log was asked for; its result shows here when it is done."))
    else:
        messages.error(request, _("The check could not be queued now; the scheduled check runs anyway."))
    return redirect("documents:ledger")


# --- what witnesses call -------------------------------------------------------------------------


@require_GET
def checkpoint(request):
    """The latest signed tree head (C2SP checkpoint with its signatures and cosignatures), as text."""
    head = latest_head()
    if head is None:
        raise Http404
    return HttpResponse(checkpoint_with_cosignatures(head), content_type=PLAIN_TEXT)


@require_GET
def consistency(request):
    """GET ?old=M&new=N: the RFC 9162 consistency proof from size M to size N, one base64 hash a line."""
    try:
        old, new = int(request.GET["old"]), int(request.GET["new"])
    except (KeyError, ValueError):
        return HttpResponseBadRequest("old and new sizes are required", content_type=PLAIN_TEXT)
    head = latest_head()
    if head is None or not 0 < old <= new <= head.size:
        return HttpResponseBadRequest("no such sizes in this log", content_type=PLAIN_TEXT)
    lines = "".join(base64.b64encode(step).decode() + "\n" for step in consistency_proof(old, new))
    return HttpResponse(lines, content_type=PLAIN_TEXT)


def _note_of(request) -> bytes | None:
    """The plain-text body a witness posts; None when a form upload was sent instead (read as a form already)."""
    try:
        return request.body
    except RawPostDataException:
        return None


NOT_A_NOTE = "send the signed note as a text/plain request body"


@csrf_exempt
@require_POST
def witness_cosign(request):
    """A witness posts its cosignature line for the checkpoint it verified (the note body, then the line)."""
    note = _note_of(request)
    if note is None:
        return HttpResponseBadRequest(NOT_A_NOTE, content_type=PLAIN_TEXT)
    try:
        cosignature = cosignature_accept(note=note.decode())
    except (WitnessRejected, UnicodeDecodeError) as error:
        return HttpResponse(str(error), status=403, content_type=PLAIN_TEXT)
    return JsonResponse({"head": cosignature.head.size, "witness": cosignature.witness.name})


@csrf_exempt
@require_POST
def witness_fork(request):
    """A witness reports two signed checkpoints of this log that cannot both be true: a fork, a red warning."""
    report = _note_of(request)
    if report is None:
        return HttpResponseBadRequest(NOT_A_NOTE, content_type=PLAIN_TEXT)
    try:
        warning = fork_report_accept(report=report.decode())
    except (WitnessRejected, UnicodeDecodeError, ValueError) as error:
        return HttpResponse(str(error), status=403, content_type=PLAIN_TEXT)
    return JsonResponse({"warning": warning.pk})
