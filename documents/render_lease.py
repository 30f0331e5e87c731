"""A rendering job's lease: which worker may render a document, and how a lost worker is noticed.

A worker claims a document before rendering it (``render_claim``): one atomic UPDATE that succeeds only
when nobody is rendering it, so two copies of the same job (a message redelivered by Redis, a sweep that
queued it again) never render it side by side. While it renders, a heartbeat thread stamps
``heartbeat_at``; a document left "rendering" without a heartbeat for ``JOB_LEASE_SECONDS`` lost its
worker (killed, out of memory, machine gone) and may be claimed again. Every claim counts an attempt:
a document that keeps killing its worker stops being retried after ``JOB_MAX_ATTEMPTS`` and is marked
failed, for someone to look at, instead of taking workers down for ever.
"""

import datetime
import logging
import threading
from contextlib import contextmanager

from django.conf import settings
from django.db import connections
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from .models import RenderedDocument, RenderStatus

logger = logging.getLogger(__name__)

# Enough for a failure and its retries (documents.tasks.render_document retries 5 times) plus two lost workers.
JOB_MAX_ATTEMPTS = 8


def lease_seconds() -> int:
    return settings.JOB_LEASE_SECONDS


def heartbeat_seconds() -> int:
    # A few beats fit in one lease, so one slow database round trip does not lose it.
    return max(1, min(settings.JOB_HEARTBEAT_SECONDS, lease_seconds() // 3))


def _free(now: datetime.datetime) -> Q:
    """Documents no live worker holds: waiting, failed (a retry), or rendering without a recent heartbeat."""
    lost_before = now - datetime.timedelta(seconds=lease_seconds())
    return (
        Q(status__in=[RenderStatus.PENDING, RenderStatus.FAILED])
        | Q(status=RenderStatus.RENDERING, heartbeat_at__lt=lost_before)
        | Q(status=RenderStatus.RENDERING, heartbeat_at__isnull=True)
    )


def render_claim(document: RenderedDocument) -> bool:
    """Take the document for this worker; False when it is done, held by a live worker, or given up on."""
    now = timezone.now()
    free = RenderedDocument.objects.filter(_free(now), pk=document.pk)
    claimed = free.filter(attempts__lt=JOB_MAX_ATTEMPTS).update(
        status=RenderStatus.RENDERING, attempts=F("attempts") + 1, heartbeat_at=now, progress=5, error=""
    )
    if claimed:
        document.refresh_from_db(fields=["status", "attempts", "heartbeat_at", "progress", "error"])
        return True
    reason = _("Rendering was given up after %(count)s attempts: the worker stopped each time.") % {
        "count": JOB_MAX_ATTEMPTS
    }
    if (
        free.filter(attempts__gte=JOB_MAX_ATTEMPTS)
        .exclude(status=RenderStatus.FAILED)
        .update(status=RenderStatus.FAILED, error=reason)
    ):
        logger.error("rendered document %s: %s", document.pk, reason)
    document.refresh_from_db()
    return False


def stale_documents(now: datetime.datetime | None = None):
    """Current documents whose job was lost: rendering with no heartbeat for a lease, or pending and not
    queued for ``JOB_REQUEUE_SECONDS`` (the message never reached the broker, or the broker lost it)."""
    now = now or timezone.now()
    lost_before = now - datetime.timedelta(seconds=lease_seconds())
    requeue_before = now - datetime.timedelta(seconds=settings.JOB_REQUEUE_SECONDS)
    # A document asked for a moment ago may be about to be queued by the transaction that made it.
    just_asked = now - datetime.timedelta(seconds=min(60, settings.JOB_REQUEUE_SECONDS))
    pending = Q(status=RenderStatus.PENDING) & (
        Q(queued_at__lt=requeue_before) | Q(queued_at__isnull=True, requested_at__lt=just_asked)
    )
    # Once queued again, a lost rendering waits a lease for a worker to claim it before the next copy.
    rendering = (
        Q(status=RenderStatus.RENDERING)
        & (Q(heartbeat_at__lt=lost_before) | Q(heartbeat_at__isnull=True))
        & (Q(queued_at__lt=lost_before) | Q(queued_at__isnull=True))
    )
    return RenderedDocument.objects.filter(pending | rendering, superseded_at__isnull=True).order_by("pk")


def _beat(document_id: int, stop: threading.Event) -> None:
    try:
        while not stop.wait(heartbeat_seconds()):
            try:
                RenderedDocument.objects.filter(pk=document_id, status=RenderStatus.RENDERING).update(
                    heartbeat_at=timezone.now()
                )
            # A missed beat is not fatal: the lease outlasts several of them.
            except Exception:
                logger.warning("heartbeat of rendered document %s failed", document_id, exc_info=True)
    finally:
        # This thread's own database connection.
        connections.close_all()


@contextmanager
def render_heartbeat(document_id: int):
    """Keep the lease of a document alive while the block renders it."""
    stop = threading.Event()
    thread = threading.Thread(target=_beat, args=(document_id, stop), name=f"heartbeat-{document_id}", daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join()
