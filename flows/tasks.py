"""Background work of the spine: closing publication periods on time."""

from celery import shared_task
from django.utils import timezone

from .models import Notice
from .services import publication_try_close


@shared_task(autoretry_for=(Exception,), retry_backoff=True, max_retries=5)
def close_publication(notice_id: int) -> bool:
    """Scheduled for the end of a notice's period; a no-op if it is early, objected to or done."""
    return publication_try_close(notice_id=notice_id)


@shared_task
def close_due_publications() -> int:
    """Beat's sweep: catches any period whose scheduled close was lost (worker down, restart)."""
    due = Notice.objects.filter(closed_at__isnull=True, ends_at__lte=timezone.now()).values_list("pk", flat=True)
    return sum(1 for notice_id in list(due) if publication_try_close(notice_id=notice_id))
