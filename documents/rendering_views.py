"""Rendered PDFs: their progress, the file itself, and asking for one. Each asks the jurisdiction helper."""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import FileResponse, Http404, JsonResponse
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from flows.models import Matter, Meeting, Notice
from organizations.jurisdiction import READ_ONLY_ROLES, TOWNSHIP_ROLES, can_act, can_see, get_for_user, roles_over
from organizations.models import Role
from organizations.signals import security_event
from protection.addresses import client_address

from . import rendering
from .models import RenderedDocument, RenderStatus

# Dossiers are requested when a matter is archived. Asking again makes a new volume that supersedes
# the old one: after an approved correction, or when a render failed. That is for the township,
# which reviews the village's matters, and the county administrator, who approves corrections;
# village posts cannot churn their own archive, and inspectors only read.
DOSSIER_REQUEST_ROLES = {*TOWNSHIP_ROLES, Role.COUNTY_ADMIN}
REQUEST_SERVICES = {
    RenderedDocument.Kind.DOSSIER: rendering.dossier_request,
    RenderedDocument.Kind.MINUTES: rendering.minutes_request,
    RenderedDocument.Kind.NOTICE: rendering.notice_request,
    RenderedDocument.Kind.APPROVAL_FORM: rendering.approval_form_request,
}


def may_request_pdf(user, organization) -> bool:
    """Rendering is work: a post that acts there may ask for it; read-only posts (inspectors) only read."""
    return bool(roles_over(user, organization) - READ_ONLY_ROLES)


# Minutes and notices do not change once recorded: one rendered or rendering is reused, not redone.
REUSABLE = (RenderStatus.RENDERING, RenderStatus.DONE)


def _document_for_user(user, pk: int) -> RenderedDocument:
    """One rendered document the user may see; anything outside their jurisdiction is a 404."""
    document = get_object_or_404(
        RenderedDocument.objects.select_related(
            "matter__organization", "meeting__organization", "notice__organization", "notice__matter"
        ),
        pk=pk,
    )
    if not can_see(user, rendering.document_organization(document)):
        raise Http404
    return document


def document_urls(document: RenderedDocument | None) -> dict:
    if document is None:
        return {"status_url": "", "download_url": ""}
    done = document.status == RenderStatus.DONE
    return {
        "status_url": reverse("documents:document_status", args=[document.pk]),
        "download_url": reverse("documents:document_download", args=[document.pk]) if done else "",
    }


@login_required
@require_GET
def document_status(request, pk: int):
    """JSON for the page that waits: {status, progress, url}; url is the download once the PDF is ready."""
    document = _document_for_user(request.user, pk)
    return JsonResponse(
        {
            "status": document.status,
            "label": document.get_status_display(),
            "progress": document.progress,
            "url": document_urls(document)["download_url"] or None,
        },
        headers={"Cache-Control": "no-store"},
    )


@login_required
@require_GET
def document_download(request, pk: int):
    """The PDF, once rendered; every opening is written to the access log."""
    document = _document_for_user(request.user, pk)
    if document.status != RenderStatus.DONE or not document.pdf:
        raise Http404(_("This document is not ready yet."))
    rendering.access_log_document(user=request.user, document=document, address=client_address(request))
    security_event.send(
        sender=RenderedDocument,
        kind="download",
        description=_("%(kind)s #%(pk)s downloaded.") % {"kind": document.get_kind_display(), "pk": document.pk},
        obj=document,
        request=request,
    )
    response = FileResponse(
        document.pdf.open("rb"), content_type="application/pdf", filename=rendering.download_name(document)
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    return response


def _target(user, kind: str, pk: int):
    """The matter, meeting or notice a PDF is asked for: ({keyword: object}, its organisation, its page)."""
    if kind in (RenderedDocument.Kind.DOSSIER, RenderedDocument.Kind.APPROVAL_FORM):
        matter = get_for_user(user, Matter.objects.select_related("organization"), pk)
        return {"matter": matter}, matter.organization, matter.get_absolute_url()
    if kind == RenderedDocument.Kind.MINUTES:
        meeting = get_for_user(user, Meeting.objects.select_related("organization"), pk)
        return {"meeting": meeting}, meeting.organization, meeting.get_absolute_url()
    if kind == RenderedDocument.Kind.NOTICE:
        notice = get_for_user(user, Notice.objects.select_related("organization", "matter"), pk)
        return {"notice": notice}, notice.organization, notice.matter.get_absolute_url()
    raise Http404


@login_required
@require_POST
def document_request(request, kind: str, pk: int):
    """Ask for a PDF: minutes or a printable notice by anyone who sees them; a new dossier by the township or county."""
    target, organization, page = _target(request.user, kind, pk)
    if kind == RenderedDocument.Kind.DOSSIER and not can_act(request.user, organization, DOSSIER_REQUEST_ROLES):
        raise PermissionDenied
    if kind != RenderedDocument.Kind.DOSSIER and not may_request_pdf(request.user, organization):
        raise PermissionDenied
    current = rendering.current_document(kind=kind, **target)
    # The requester may choose the language of the document; without a choice it is the site's.
    language = request.POST.get("language", "")
    # A dossier or an approval form is rendered again when asked: the matter may have moved on since.
    renders_anew = kind in (RenderedDocument.Kind.DOSSIER, RenderedDocument.Kind.APPROVAL_FORM)
    reuse = (
        not renders_anew
        and current is not None
        and current.status in REUSABLE
        and current.language == (language or settings.LANGUAGE_CODE)
    )
    if not reuse:
        try:
            REQUEST_SERVICES[kind](**target, requested_by=request.user, language=language)
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
        else:
            messages.success(request, _("The PDF is being rendered; this page shows when it is ready."))
    following = request.POST.get("next", "")
    if url_has_allowed_host_and_scheme(
        following, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return redirect(following)
    return redirect(page)
