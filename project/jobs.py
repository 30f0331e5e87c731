"""Sending background jobs so that no request fails because the broker is down.

Every job of the product is safe to lose: acknowledged only once it is done (``CELERY_TASK_ACKS_LATE``),
given back when its worker dies (``CELERY_TASK_REJECT_ON_WORKER_LOST``), idempotent, and found again by
a beat sweep of the state it was meant to change (a document still pending or rendering, a certificate
without its PDF, a publication past its end, a reminder due). So a job that cannot be sent now is not an
error for the person who asked: it is logged, and the sweep sends it when the broker is back.
"""

import logging

from django.db import transaction

logger = logging.getLogger(__name__)


def enqueue(task, *args, **options) -> bool:
    """Send ``task(*args)`` now; False (and a logged error) when the broker cannot take it."""
    try:
        task.apply_async(args, **options)
    # Whatever the broker's client raises (kombu's OperationalError, a socket error, a locked SQLite
    # broker file), the caller's work is done and committed; only the message is missing.
    except Exception:
        logger.exception("could not queue %s%r; the sweep will queue it again", task.name, args)
        return False
    return True


def enqueue_on_commit(task, *args, **options) -> None:
    """Send ``task(*args)`` once the current transaction commits (a job that runs before it would find nothing)."""
    transaction.on_commit(lambda: enqueue(task, *args, **options))
