"""Background work of the spine: closing publication periods on time, reminding and escalating waiting tasks."""

from celery import shared_task
from django.db import InterfaceError, OperationalError, transaction
from django.utils import timezone

from .models import Notice
from .reminders import due_reminders, reminder_send
from .services import publication_try_close

# Failures that pass: a locked SQLite file, a dropped database connection, a network blip.
TRANSIENT_ERRORS = (OperationalError, InterfaceError, ConnectionError, TimeoutError)


@shared_task(autoretry_for=(Exception,), retry_backoff=True, max_retries=5)
def close_publication(notice_id: int) -> bool:
    """Scheduled for the end of a notice's period; a no-op if it is early, objected to or done."""
    return publication_try_close(notice_id=notice_id)


# The sweeps meet the same locks as the jobs (the web server writing the same SQLite file): they retry too.
@shared_task(autoretry_for=TRANSIENT_ERRORS, retry_backoff=True, max_retries=5)
def close_due_publications() -> int:
    """Beat's sweep: catches any period whose scheduled close was lost (worker down, restart)."""
    due = Notice.objects.filter(closed_at__isnull=True, ends_at__lte=timezone.now()).values_list("pk", flat=True)
    return sum(1 for notice_id in list(due) if publication_try_close(notice_id=notice_id))


@shared_task(autoretry_for=TRANSIENT_ERRORS, retry_backoff=True, retry_backoff_max=600, max_retries=5)
def send_task_reminder(task_id: int, level: str) -> bool:
    """Send one task's reminder or escalation; a no-op when it was sent already or is no longer due."""
    return reminder_send(task_id=task_id, level=level) is not None


@shared_task(autoretry_for=TRANSIENT_ERRORS, retry_backoff=True, max_retries=5)
def send_due_reminders() -> int:
    """Beat's sweep: queue one job per reminder or escalation due; returns how many were queued."""
    due = due_reminders()
    for task_id, level in due:
        # After commit, should the sweep ever run inside a transaction; robust: a broker that is down
        # loses this job only, and the next sweep finds the task again.
        transaction.on_commit(
            lambda task_id=task_id, level=level: send_task_reminder.delay(task_id, level), robust=True
        )
    return len(due)
