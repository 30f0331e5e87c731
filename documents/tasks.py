"""Background work of the archive: rendering dossiers, minutes and printable notices as PDF; the stored
check of the whole log (documents/ledger_checks.py).

Each job is safe to lose (project/jobs.py): a worker claims the document before rendering it and keeps a
heartbeat while it does (documents/render_lease.py); beat's sweep queues again whatever is still pending
or rendering with no live worker, whichever broker lost the message.
"""

from celery import shared_task
from django.contrib.auth import get_user_model
from django.utils import timezone

from project.jobs import enqueue

from . import rendering
from .archive import archive_check_run
from .ledger_checks import ledger_check_run
from .models import LedgerCheck, RenderedDocument
from .render_lease import render_heartbeat, stale_documents

# One sweep queues at most this many documents; the next sweep takes the rest.
SWEEP_BATCH = 200


@shared_task(
    autoretry_for=(Exception,),
    dont_autoretry_for=(RenderedDocument.DoesNotExist,),
    retry_backoff=True,
    retry_backoff_max=600,
    max_retries=5,
)
def render_document(document_id: int) -> str:
    """Render one RenderedDocument; one already DONE, or held by a live worker, is left as it is."""
    document = RenderedDocument.objects.get(pk=document_id)
    with render_heartbeat(document_id):
        document = rendering.render_document(document)
    if document.kind == RenderedDocument.Kind.DOSSIER and document.matter.status == "archived":
        # 四性检测 at archiving: the report is stored with the dossier (documents/archive.py).
        archive_check_run(document=document)
    return document.pdf.name


def render_queue(document_id: int) -> bool:
    """Send the document's job to the broker now, and note when; False when the broker cannot take it."""
    if not enqueue(render_document, document_id):
        return False
    RenderedDocument.objects.filter(pk=document_id).update(queued_at=timezone.now())
    return True


@shared_task
def render_stale_documents() -> int:
    """Beat's sweep: queue again every current document whose job was lost (still pending, or rendering
    with no heartbeat for a lease); returns how many were queued."""
    stale = list(stale_documents().values_list("pk", flat=True)[:SWEEP_BATCH])
    queued = 0
    for document_id in stale:
        # Marked as queued even when the broker refuses, so one outage does not make every sweep retry
        # the whole backlog at once; it comes round again after JOB_REQUEUE_SECONDS.
        RenderedDocument.objects.filter(pk=document_id).update(queued_at=timezone.now())
        if enqueue(render_document, document_id):
            queued += 1
    return queued


@shared_task
def check_ledger(check_files: bool = False, requested_by_id: int | None = None) -> int | None:
    """Verify the whole log and store the result; the check's id, or None when another check was running.
    No retry: the next scheduled run checks again."""
    requested_by = get_user_model().objects.filter(pk=requested_by_id).first() if requested_by_id else None
    check = ledger_check_run(
        check_files=check_files,
        trigger=LedgerCheck.Trigger.REQUEST if requested_by_id else LedgerCheck.Trigger.SCHEDULE,
        requested_by=requested_by,
    )
    return check.pk if check else None
