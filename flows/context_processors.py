from django.db.models import Count, Max, Q

from .models import TRANSIENT_KINDS, Notification


def live_stream(request):
    """The state of the signed-in user's live stream, for the bell."""
    return live_status(getattr(request, "user", None))


def live_status(user) -> dict:
    """Unread count for the bell and the newest row id the page's stream starts after, in one query."""
    if user is None or not user.is_authenticated:
        return {}
    counts = Notification.objects.filter(recipient=user).aggregate(
        unread=Count("pk", filter=Q(read_at__isnull=True) & ~Q(kind__in=TRANSIENT_KINDS)),
        latest=Max("pk"),
    )
    return {"live_unread": counts["unread"], "live_latest": counts["latest"] or 0}
