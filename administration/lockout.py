"""django-axes hooks: the failure limit and a cool-off that grows with every lockout of the day."""

import datetime

from django.utils import timezone

from protection.addresses import client_address

from .models import EventKind, SecurityEvent
from .policy import current_policy

# The cool-off doubles with each lockout of the same account or address in a day, up to this many times.
MAX_DOUBLINGS = 6
GROWTH_WINDOW = datetime.timedelta(hours=24)


def failure_limit(request, credentials) -> int:
    return current_policy().failure_limit


def earlier_lockouts(*, username: str, address: str | None) -> int:
    """Lockouts of this account or address in the last day, as the security log recorded them."""
    since = timezone.now() - GROWTH_WINDOW
    events = SecurityEvent.objects.filter(kind=EventKind.LOCKOUT, at__gte=since)
    matching = events.filter(actor_name=username) if username else events.none()
    if address:
        matching = matching | events.filter(address=address)
    return matching.count()


def cool_off(request) -> datetime.timedelta:
    base = datetime.timedelta(minutes=current_policy().lockout_minutes)
    if request is None:
        return base
    username = (request.POST.get("username", "") if request.method == "POST" else "").strip()
    # The lockout in force is itself in the log: only the ones before it make it longer.
    lockouts = earlier_lockouts(username=username, address=client_address(request) or None)
    return base * (2 ** min(max(lockouts - 1, 0), MAX_DOUBLINGS))
