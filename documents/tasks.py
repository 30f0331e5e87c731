"""Background work of the archive: rendering dossiers, minutes and printable notices as PDF."""

import datetime

from celery import shared_task
from django.utils import timezone

from . import rendering
from .archive import archive_check_run
from .models import RenderedDocument, RenderStatus

# A document still pending this long after it was asked for lost its message (broker down at commit).
STALE_AFTER = datetime.timedelta(minutes=10)


@shared_task(
    autoretry_for=(Exception,),
    dont_autoretry_for=(RenderedDocument.DoesNotExist,),
    retry_backoff=True,
    retry_backoff_max=600,
    max_retries=5,
)
def render_document(document_id: int) -> str:
    """Render one RenderedDocument; a document already DONE is left as it is, so a repeat is harmless."""
    document = rendering.render_document(RenderedDocument.objects.get(pk=document_id))
    if document.kind == RenderedDocument.Kind.DOSSIER and document.matter.status == "archived":
        # 四性检测 at archiving: the report is stored with the dossier (documents/archive.py).
        archive_check_run(document=document)
    return document.pdf.name


@shared_task
def render_stale_documents() -> int:
    """Beat's sweep: queue again every current document that has waited too long for a worker."""
    stale = RenderedDocument.objects.filter(
        status=RenderStatus.PENDING, superseded_at__isnull=True, requested_at__lte=timezone.now() - STALE_AFTER
    ).values_list("pk", flat=True)
    queued = 0
    for document_id in list(stale):
        render_document.delay(document_id)
        queued += 1
    return queued
