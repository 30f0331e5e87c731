"""Reads for the administrators' pages."""

from django.db.models import Q, QuerySet

from documents.models import LedgerEntry, LedgerKind

from .log import event_digest
from .models import SecurityEvent


def events_for(post, *, q: str = "", kind: str = "", outcome: str = "", date_from=None, date_to=None) -> QuerySet:
    """The security log an audit administrator reads: their part of the tree, and events of no place."""
    events = SecurityEvent.objects.filter(
        Q(organization__path__startswith=post.organization.path) | Q(organization__isnull=True)
    ).select_related("actor")
    if q:
        events = events.filter(Q(actor_name__icontains=q) | Q(description__icontains=q) | Q(address__startswith=q))
    if kind:
        events = events.filter(kind=kind)
    if outcome:
        events = events.filter(outcome=outcome)
    if date_from:
        events = events.filter(at__date__gte=date_from)
    if date_to:
        events = events.filter(at__date__lte=date_to)
    return events.order_by("-at", "-pk")


def security_log_check() -> tuple[int, list[int]]:
    """(entries checked, pks of entries that differ from their ledger fingerprint or have none)."""
    logged = {
        entry["object_id"]: entry["payload"].get("sha256")
        for entry in LedgerEntry.objects.filter(kind=LedgerKind.SECURITY).values("object_id", "payload")
    }
    checked, bad = 0, []
    for event in SecurityEvent.objects.order_by("pk").iterator(chunk_size=2000):
        checked += 1
        if logged.get(str(event.pk)) != event_digest(event):
            bad.append(event.pk)
    return checked, bad
