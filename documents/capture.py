"""The capture page: pages from a document camera (高拍仪) or phone camera, and chosen files, added to a step."""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import JsonResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from flows.models import Matter, Step
from organizations.jurisdiction import get_for_user

from . import services
from .filetypes import ACCEPT_ATTRIBUTE, ACCEPTED_TYPES_TEXT


def _capture_text() -> dict[str, str]:
    """The words capture.js shows, translated here (the script has no catalogue of its own)."""
    return {
        "page": _("Page %(number)s"),
        "camera": _("Camera %(number)s"),
        "up": _("Up"),
        "down": _("Down"),
        "remove": _("Remove"),
        "moveUp": _("Move up"),
        "moveDown": _("Move down"),
        "removePage": _("Remove this page"),
        "noPages": _("Take pages with the camera or choose files first."),
        "sending": _("Sending %(count)s files…"),
        "failed": _("The upload failed and nothing was stored; check the connection and try again."),
        "notReady": _("The camera is not ready yet; wait a moment and try again."),
        "notAllowed": _(
            "The browser was not allowed to use the camera. Allow the camera for this site "
            "(the camera icon in the address bar) and press “Start camera” again, or choose files instead."
        ),
        "notFound": _("No camera was found. Connect the document camera (高拍仪) and try again, or choose files."),
        "notReadable": _("The camera is in use by another program or window. Close it and try again."),
        "insecure": _(
            "The browser allows the camera only on a secure (https://) address. Choose files, "
            "or ask the administrator to serve the site over HTTPS."
        ),
        "other": _("The camera could not be started: %(error)s"),
    }


def _wants_json(request) -> bool:
    # The page's script asks for JSON; a plain form post (script off) gets a redirect or the page again.
    return "application/json" in request.headers.get("Accept", "")


@login_required
def capture(request, matter_id: int):
    matter = get_for_user(request.user, Matter.objects.select_related("organization"), matter_id)
    if not services.evidence_may_add(user=request.user, matter=matter):
        raise PermissionDenied
    steps = services.evidence_steps(matter)
    step = request.POST.get("step") or request.GET.get("step") or matter.next_step
    if step not in steps and request.method != "POST":
        step = matter.next_step if matter.next_step in steps else steps[-1]
    errors: list[str] = []
    status = 200
    if request.method == "POST":
        try:
            stored = services.evidence_add(
                user=request.user, matter=matter, step=step, uploads=request.FILES.getlist("files")
            )
        except ValidationError as error:
            errors = error.messages
            status = 400
        else:
            message = ngettext(
                "%(count)d file was added to “%(step)s”.", "%(count)d files were added to “%(step)s”.", len(stored)
            ) % {"count": len(stored), "step": Step(step).label}
            messages.success(request, message)
            if _wants_json(request):
                return JsonResponse({"redirect": matter.get_absolute_url(), "stored": [e.pk for e in stored]})
            return redirect(matter)
        if _wants_json(request):
            return JsonResponse({"errors": errors}, status=400)
    context = {
        "matter": matter,
        "steps": [(value, Step(value).label) for value in steps],
        "step": step,
        "errors": errors,
        "accept": ACCEPT_ATTRIBUTE,
        "accepted_types": ACCEPTED_TYPES_TEXT,
        "max_megabytes": settings.EVIDENCE_MAX_BYTES // 1048576,
        "max_files": services.MAX_FILES_PER_SUBMISSION,
        "capture_text": _capture_text(),
    }
    return render(request, "documents/capture.html", context, status=status)
