from django.contrib.auth.decorators import login_required
from django.http import FileResponse, Http404
from django.utils.translation import gettext as _

from organizations.jurisdiction import get_for_user
from organizations.signals import security_event
from protection.addresses import client_address

from .models import AccessAction, Evidence
from .services import access_log_record

# What a browser may show inline: plain pictures. A PDF or TIFF is saved, not opened in the site's origin.
INLINE_TYPES = frozenset({"image/jpeg", "image/png"})


def protect_file_response(response, *, inline: bool) -> None:
    """Headers for a user's uploaded file: never cached by a shared cache, never run as part of the site."""
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    # A sandbox with nothing allowed: even a file that got past the checks runs no script with our origin.
    # (Set here, the site-wide CSP middleware leaves it as it is.)
    response["Content-Security-Policy"] = "sandbox; default-src 'none'; img-src 'self'; style-src 'unsafe-inline'"
    if not inline:
        response["Content-Disposition"] = response["Content-Disposition"].replace("inline;", "attachment;", 1)


def _evidence_for(request, pk: int) -> Evidence:
    return get_for_user(request.user, Evidence.objects.select_related("matter"), pk, "matter__organization")


@login_required
def evidence_download(request, pk: int):
    """Files are served only here, to users whose jurisdiction covers the matter; every download is logged."""
    evidence = _evidence_for(request, pk)
    response = FileResponse(evidence.file.open("rb"), content_type=evidence.content_type)
    access_log_record(
        user=request.user,
        action=AccessAction.DOWNLOAD_FILE,
        matter=evidence.matter,
        evidence=evidence,
        detail=evidence.original_name,
        address=client_address(request),
    )
    security_event.send(
        sender=Evidence,
        kind="download",
        description=_("Evidence file #%(pk)s of matter #%(matter)s downloaded.")
        % {"pk": evidence.pk, "matter": evidence.matter_id},
        obj=evidence,
        request=request,
    )
    response["Content-Disposition"] = f"inline; filename=evidence-{evidence.pk}{evidence.extension}"
    protect_file_response(response, inline=evidence.content_type in INLINE_TYPES)
    return response


@login_required
def evidence_thumbnail(request, pk: int):
    """The small preview of a file, behind the same door; a preview is not an opening of the file, so not logged."""
    evidence = _evidence_for(request, pk)
    if not evidence.thumbnail:
        raise Http404
    response = FileResponse(evidence.thumbnail.open("rb"), content_type="image/jpeg")
    response["X-Content-Type-Options"] = "nosniff"
    # A preview the server made itself (JPEG): cacheable by the browser alone, never by a proxy.
    response["Cache-Control"] = "private, max-age=3600"
    return response
