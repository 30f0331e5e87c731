"""Background work of the tamper-evident log: periodic Merkle checkpoints (scheduled by beat)."""

import logging

from celery import shared_task

from .ledger import checkpoint_create

logger = logging.getLogger(__name__)


@shared_task
def ledger_checkpoint_task() -> str | None:
    """Seal the entries appended since the last checkpoint; a log that fails verification is not sealed.

    No retry: a broken log stays broken until someone looks, and the ValidationError raised here is
    what the worker's log and any error monitoring should show.
    """
    checkpoint = checkpoint_create()
    if checkpoint is None:
        return None
    logger.info("ledger checkpoint ≤#%s %s", checkpoint.last_seq, checkpoint.merkle_root)
    return checkpoint.merkle_root
