from django.contrib.auth.decorators import login_required
from django.http import FileResponse

from organizations.jurisdiction import get_for_user

from .models import Evidence


@login_required
def evidence_download(request, pk: int):
    """Files are served only here, to users whose jurisdiction covers the matter."""
    evidence = get_for_user(request.user, Evidence.objects.select_related("matter"), pk, "matter__organization")
    response = FileResponse(evidence.file.open("rb"), content_type=evidence.content_type)
    response["Content-Disposition"] = f"inline; filename=evidence-{evidence.pk}{evidence.extension}"
    response["X-Content-Type-Options"] = "nosniff"
    return response
