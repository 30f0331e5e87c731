"""``{% dossier_status matter %}``, ``{% approval_form_status matter %}``, ``{% meeting_minutes_link meeting %}``,
``{% notice_print_link notice %}``.

Each shows the state of the PDF for someone in the object's jurisdiction (rendering N%, open it, ask
for it) and nothing for anyone else, the public board's anonymous readers included.
"""

from django import template
from django.conf import settings
from django.urls import reverse
from django.utils.translation import gettext as _

from flows.models import MatterStatus
from organizations.jurisdiction import can_act, can_see

from ..models import RenderedDocument, RenderStatus
from ..rendering import current_document
from ..rendering_views import DOSSIER_REQUEST_ROLES, document_urls, may_request_pdf

register = template.Library()

PARTIAL = "documents/partials/dossier_status.html"
HIDDEN = {"visible": False}


def _user(context):
    return context.get("user") or getattr(context.get("request"), "user", None)


def _panel(context, *, kind: str, target, document, can_request: bool, heading: str, request_label: str) -> dict:
    request = context.get("request")
    previous = None
    if document is not None and document.status != RenderStatus.DONE:
        # While a new volume renders, the last finished one stays available.
        previous = (
            RenderedDocument.objects.filter(kind=kind, status=RenderStatus.DONE, **{kind_field(kind): target})
            .exclude(pk=document.pk)
            .order_by("-pk")
            .first()
        )
    return {
        "visible": True,
        "element_id": f"rendered-{kind}-{target.pk}",
        "heading": heading,
        "document": document,
        **document_urls(document),
        "previous": previous,
        "previous_url": document_urls(previous)["download_url"] if previous else "",
        "can_request": can_request,
        "request_url": reverse("documents:document_request", args=[kind, target.pk]) if can_request else "",
        "request_label": request_label,
        # The requester may print it in another of the site's languages; the site's is chosen.
        "languages": [code for code, _label in settings.LANGUAGES],
        "site_language": settings.LANGUAGE_CODE,
        "next": request.get_full_path() if request else "",
        "csrf_token": context.get("csrf_token"),
        # The partial's inline script carries the page's CSP nonce.
        "request": request,
    }


def kind_field(kind: str) -> str:
    return {
        RenderedDocument.Kind.DOSSIER: "matter",
        RenderedDocument.Kind.MINUTES: "meeting",
        RenderedDocument.Kind.NOTICE: "notice",
        RenderedDocument.Kind.APPROVAL_FORM: "matter",
    }[kind]


def _unfinished(document) -> bool:
    return document is None or document.status == RenderStatus.FAILED


@register.inclusion_tag(PARTIAL, takes_context=True)
def dossier_status(context, matter):
    """The archived matter's dossier: rendering progress, the PDF, and for township/county a new rendering."""
    user = _user(context)
    if user is None or not can_see(user, matter.organization):
        return HIDDEN
    document = current_document(kind=RenderedDocument.Kind.DOSSIER, matter=matter)
    if document is None and matter.status != MatterStatus.ARCHIVED:
        return HIDDEN
    can_request = matter.status == MatterStatus.ARCHIVED and can_act(user, matter.organization, DOSSIER_REQUEST_ROLES)
    return _panel(
        context,
        kind=RenderedDocument.Kind.DOSSIER,
        target=matter,
        document=document,
        can_request=can_request,
        heading=_("Dossier (PDF)"),
        request_label=_("Render the dossier") if document is None else _("Render the dossier again"),
    )


@register.inclusion_tag(PARTIAL, takes_context=True)
def meeting_minutes_link(context, meeting):
    """The meeting's minutes as a PDF with attendance, votes and signature lines."""
    user = _user(context)
    if user is None or not can_see(user, meeting.organization):
        return HIDDEN
    document = current_document(kind=RenderedDocument.Kind.MINUTES, meeting=meeting)
    return _panel(
        context,
        kind=RenderedDocument.Kind.MINUTES,
        target=meeting,
        document=document,
        can_request=_unfinished(document) and may_request_pdf(user, meeting.organization),
        heading=_("Minutes (PDF)"),
        request_label=_("Render the minutes"),
    )


@register.inclusion_tag(PARTIAL, takes_context=True)
def notice_print_link(context, notice):
    """The notice as a PDF to print for the village's physical board."""
    user = _user(context)
    if user is None or not can_see(user, notice.organization):
        return HIDDEN
    document = current_document(kind=RenderedDocument.Kind.NOTICE, notice=notice)
    return _panel(
        context,
        kind=RenderedDocument.Kind.NOTICE,
        target=notice,
        document=document,
        can_request=_unfinished(document) and may_request_pdf(user, notice.organization),
        heading=_("Printable notice (PDF)"),
        request_label=_("Render the notice for printing"),
    )


@register.inclusion_tag(PARTIAL, takes_context=True)
def approval_form_status(context, matter):
    """The matter's approval form (审批表) to print, as it stands: anyone who sees the matter may ask for it."""
    user = _user(context)
    if user is None or not can_see(user, matter.organization):
        return HIDDEN
    document = current_document(kind=RenderedDocument.Kind.APPROVAL_FORM, matter=matter)
    return _panel(
        context,
        kind=RenderedDocument.Kind.APPROVAL_FORM,
        target=matter,
        document=document,
        can_request=document is None or document.status in (RenderStatus.DONE, RenderStatus.FAILED),
        heading=_("Approval form (PDF)"),
        request_label=_("Print the approval form") if document is None else _("Print it again as it stands"),
    )
