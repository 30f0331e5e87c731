"""Background work of the transparency log: the sequencer (after every commit and on beat), head time-stamps."""

import logging

from celery import shared_task
from django.conf import settings

from .sequencer import sequence_pending
from .timestamping import head_timestamp, heads_to_timestamp

logger = logging.getLogger(__name__)


@shared_task
def sequence_ledger() -> int:
    """Give every committed leaf its position and sign the new tree head; returns how many were placed.

    No retry: a failure (a missing key file, a damaged tree) leaves the leaves waiting, the next
    trigger tries again, and the error is what the worker's log and any error monitoring show.
    With a TSA configured, the new heads are then time-stamped, each by a job of its own (a TSA that
    is down never holds the sequencer up).
    """
    placed = sequence_pending()
    if settings.LEDGER_TSA_URL:
        for head_id in heads_to_timestamp():
            timestamp_head.delay(head_id)
    return placed


@shared_task(autoretry_for=(OSError,), retry_backoff=True, retry_backoff_max=600, max_retries=8)
def timestamp_head(head_id: int) -> bool:
    """Ask the configured RFC 3161 time-stamping authority to time-stamp one signed tree head."""
    return head_timestamp(head_id=head_id)
