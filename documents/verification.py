"""Pages that check the tamper-evident log: the public check of a document (by code or by file) and the
county's view of the whole log."""

import re

from django import forms
from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from flows.models import Matter
from organizations.jurisdiction import READ_ONLY_ROLES, user_posts, visible

from .ledger import (
    ledger_verify,
    ledger_verify_digest,
    ledger_verify_matter,
    ledger_verify_upto,
    sha256_of_chunks,
)
from .models import Checkpoint, LedgerEntry, RenderedDocument

# A dossier with all its scans can be far larger than one evidence file.
VERIFY_MAX_BYTES = getattr(settings, "LEDGER_VERIFY_MAX_BYTES", 200 * 1024 * 1024)
CODE_PATTERN = re.compile(r"^[\w-]{1,32}$")
CHECKPOINTS_SHOWN = 50


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


def verify_code(request, code: str):
    """Public: what the log says of the document with this code. Nothing else of the matter is shown."""
    document = RenderedDocument.objects.select_related("matter").filter(verification_code=code).first()
    if document is None:
        # A page of its own, in the reader's language: someone holding a paper wants to know, not a debug page.
        return render(request, "documents/verify_unknown.html", {"code": code}, status=404)
    entry = (
        LedgerEntry.objects.filter(object_type="RenderedDocument", object_id=str(document.pk)).order_by("seq").first()
    )
    if entry is None:
        ok, reason = False, _("This document is not in the log yet; if it was just requested, check again later.")
    elif entry.payload.get("sha256") != document.sha256 or entry.payload.get("verification_code", code) != code:
        ok, reason = False, _("This document's fingerprint differs from the one the log recorded: it was changed.")
    else:
        result = ledger_verify_upto(seq=entry.seq)
        ok, reason = result.ok, result.reason
    return render(
        request,
        "documents/verify_result.html",
        {"document": document, "matter": document.matter, "entry": entry, "ok": ok, "reason": reason},
    )


def _may_read_ledger(user) -> bool:
    return any(post.role in READ_ONLY_ROLES for post in user_posts(user))


@login_required
def ledger(request):
    """County administrators and discipline inspectors: the whole log verified, its checkpoints, one matter."""
    if not _may_read_ledger(request.user):
        raise PermissionDenied
    result = ledger_verify()
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
    return render(
        request,
        "documents/ledger.html",
        {
            "result": result,
            "entry_count": LedgerEntry.objects.count(),
            "last_entry": LedgerEntry.objects.order_by("-seq").first(),
            "checkpoints": Checkpoint.objects.order_by("-last_seq")[:CHECKPOINTS_SHOWN],
            "checkpoint_count": Checkpoint.objects.count(),
            "matter_query": matter_query,
            "matter": matter,
            "matter_result": matter_result,
        },
    )
