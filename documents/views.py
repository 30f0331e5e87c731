from django.contrib.auth.decorators import login_required
from django.http import FileResponse, Http404

from organizations.jurisdiction import get_for_user

from .models import AccessAction, Evidence
from .services import access_log_record


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
        address=request.META.get("REMOTE_ADDR"),
    )
    response["Content-Disposition"] = f"inline; filename=evidence-{evidence.pk}{evidence.extension}"
    response["X-Content-Type-Options"] = "nosniff"
    return response


@login_required
def evidence_thumbnail(request, pk: int):
    """The small preview of a file, behind the same door; a preview is not an opening of the file, so not logged."""
    evidence = _evidence_for(request, pk)
    if not evidence.thumbnail:
        raise Http404
    response = FileResponse(evidence.thumbnail.open("rb"), content_type="image/jpeg")
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, max-age=3600"
    return response
