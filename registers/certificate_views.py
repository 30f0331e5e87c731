"""Share certificates (股权证) as PDF, served only to users whose jurisdiction covers the holder."""

from django.contrib.auth.decorators import login_required
from django.http import FileResponse, HttpResponse
from django.template import engines
from django.utils.translation import gettext as _

from organizations.jurisdiction import READ_ONLY_ROLES, get_for_user, roles_over
from organizations.signals import security_event
from project.jobs import enqueue

from .models import ShareCertificate
from .tasks import render_certificate

PENDING_PAGE = engines["django"].from_string(
    '{% extends "base.html" %}{% block content %}<h1>{{ heading }}</h1><p>{{ text }}</p>{% endblock %}'
)


@login_required
def certificate_pdf(request, pk: int):
    """The certificate's PDF; while the worker is still rendering it, a page saying so (202)."""
    certificate = get_for_user(
        request.user, ShareCertificate.objects.select_related("member__organization"), pk, "member__organization"
    )
    if certificate.pdf and certificate.pdf.storage.exists(certificate.pdf.name):
        security_event.send(
            sender=ShareCertificate,
            kind="download",
            description=_("Share certificate %(number)s downloaded.") % {"number": certificate.number},
            obj=certificate,
            request=request,
        )
        response = FileResponse(certificate.pdf.open("rb"), content_type="application/pdf")
        response["Content-Disposition"] = f'inline; filename="{certificate.number}.pdf"'
        response["X-Content-Type-Options"] = "nosniff"
        response["Cache-Control"] = "private, no-store"
        return response
    # Queue it again in case the first render was lost (rendering is idempotent), unless the reader only
    # reads: an inspector's visit changes nothing. With the broker down the page is the same: the
    # certificate follows once beat's sweep can queue it.
    if roles_over(request.user, certificate.member.organization) - READ_ONLY_ROLES:
        enqueue(render_certificate, certificate.pk)
    page = PENDING_PAGE.render(
        {
            "heading": _("Share certificate %(number)s") % {"number": certificate.number},
            "text": _("The certificate is being rendered. Reload this page in a moment."),
        },
        request,
    )
    response = HttpResponse(page, status=202)
    response["Refresh"] = "5"
    return response
