"""Background work of the statistics: refresh one collective's month after an event, rebuild all nightly."""

import datetime

from celery import shared_task
from django.core.cache import cache
from django.db import InterfaceError, OperationalError

from .figures import figures_rebuild, figures_refresh

TRANSIENT_ERRORS = (OperationalError, InterfaceError, ConnectionError, TimeoutError)
# Events of one collective within this many seconds share one refresh.
DEBOUNCE_SECONDS = 3


def pending_key(organization_id: int, month: datetime.date) -> str:
    return f"oversight:pending:{organization_id}:{month:%Y-%m}"


def refresh_soon(organization_id: int, month: datetime.date) -> None:
    """Queue a refresh unless one is queued and not started yet; call only after the event has committed.

    The key is taken after commit and dropped when the refresh starts, so every committed event is either
    seen by a refresh that has not read yet or queues its own."""
    if cache.add(pending_key(organization_id, month), 1, timeout=600):
        refresh_month.apply_async((organization_id, month.isoformat()), countdown=DEBOUNCE_SECONDS)


@shared_task(autoretry_for=TRANSIENT_ERRORS, retry_backoff=True, retry_backoff_max=300, max_retries=5)
def refresh_month(organization_id: int, month: str) -> int:
    day = datetime.date.fromisoformat(month)
    cache.delete(pending_key(organization_id, day))
    return figures_refresh(organization_id=organization_id, month=day)


@shared_task
def rebuild_figures() -> int:
    """Beat's nightly sweep: every collective's every month, whatever a lost message may have missed."""
    return figures_rebuild()
