"""The notification centre and the live stream's HTTP fallback. A user only ever reaches their own rows."""

from django.contrib.auth.decorators import login_required
from django.http import HttpResponseBadRequest, HttpResponseNotAllowed, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_POST

from listing.keyset import Sorting, SortKey, page_from_request

from . import notifications
from .models import TRANSIENT_KINDS, Notification

STATES = ("unread", "read", "all")
PAGE_SIZE = 30
# Newest first by id (keyset pages: a deep page costs what the first does; no count of a user's rows).
NOTIFICATION_SORTING = Sorting(keys=[SortKey("id", "pk")], default="-id")


def _safe_next(request, url: str) -> str:
    """``url`` when it stays on this site, else the notification centre."""
    if url and url_has_allowed_host_and_scheme(
        url, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return url
    return reverse("flows:notifications")


@login_required
@require_GET
def notification_centre(request):
    """Past notifications, newest first; progress rows of PDF jobs are left out."""
    state = request.GET.get("state", "all")
    if state not in STATES:
        state = "all"
    rows = Notification.objects.filter(recipient=request.user).exclude(kind__in=TRANSIENT_KINDS)
    if state == "unread":
        rows = rows.filter(read_at__isnull=True)
    elif state == "read":
        rows = rows.filter(read_at__isnull=False)
    page = page_from_request(request, rows.order_by(), sorting=NOTIFICATION_SORTING, size=PAGE_SIZE)
    return render(request, "flows/notifications.html", {"page": page, "state": state, "states": STATES})


@login_required
def notification_open(request, pk: int):
    """POST marks the notification read and goes where it points; GET only goes there (a GET changes nothing)."""
    notification = get_object_or_404(Notification, pk=pk, recipient=request.user)
    if request.method == "POST":
        notifications.mark_read(request.user, ids=[notification.pk])
    return redirect(_safe_next(request, notification.url))


@login_required
@require_POST
def notifications_mark_read(request):
    """Mark the given ``ids`` read, or all of them when none is given; JSON for scripts, a redirect for forms."""
    raw_ids = request.POST.getlist("ids")
    if not all(value.isdigit() for value in raw_ids):
        return HttpResponseBadRequest("ids must be numbers")
    changed = notifications.mark_read(request.user, ids=[int(value) for value in raw_ids] if raw_ids else None)
    if "application/json" in request.headers.get("Accept", ""):
        return JsonResponse({"marked": changed, "unread": notifications.unread(request.user).count()})
    return redirect(_safe_next(request, request.POST.get("next", "")))


def notifications_poll(request):
    """The page's fallback when its socket cannot connect: rows newer than ``after``, as the socket sends them.

    A page left open after its session ended gets 401, not the login page: a script that followed the
    redirect would render that page in the background and replace the browser's CSRF cookie under the
    login form the user is filling in another tab.
    """
    if not request.user.is_authenticated:
        return JsonResponse({"signed_in": False}, status=401, headers={"Cache-Control": "no-store"})
    if request.method != "GET":
        return HttpResponseNotAllowed(["GET"])
    raw_after = request.GET.get("after", "")
    if raw_after and not raw_after.isdigit():
        return HttpResponseBadRequest("after must be a number")
    after = int(raw_after) if raw_after else notifications.latest_id(request.user)
    rows = notifications.notifications_after(request.user, after)
    return JsonResponse(
        {
            "events": [notifications.payload(row) for row in rows],
            "unread": notifications.unread(request.user).count(),
            "latest": rows[-1].pk if rows else after,
        },
        headers={"Cache-Control": "no-store"},
    )
