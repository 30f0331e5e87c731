from django.db.models import Count, Max, Q

from flows.models import TRANSIENT_KINDS, Notification

from .jurisdiction import user_posts


def current_posts(request):
    """The signed-in user's posts, for the navigation bar, and the state of their live stream for the bell."""
    user = getattr(request, "user", None)
    posts = user_posts(user)
    return {"current_posts": posts, "current_roles": {post.role for post in posts}, **live_status(user)}


def live_status(user) -> dict:
    """Unread count for the bell and the newest row id the page's stream starts after, in one query."""
    if user is None or not user.is_authenticated:
        return {}
    counts = Notification.objects.filter(recipient=user).aggregate(
        unread=Count("pk", filter=Q(read_at__isnull=True) & ~Q(kind__in=TRANSIENT_KINDS)),
        latest=Max("pk"),
    )
    return {"live_unread": counts["unread"], "live_latest": counts["latest"] or 0}
