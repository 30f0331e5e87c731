"""The import's Celery work: the dry run after upload, and the import after the administrator confirms."""

import datetime

from celery import shared_task
from django.conf import settings
from django.contrib.auth import get_user_model

from project.jobs import enqueue

from .models import ImportJob
from .services import import_apply, import_check, imports_resume


@shared_task(name="imports.check_import")
def check_import(job_id: int) -> None:
    job = ImportJob.objects.filter(pk=job_id).first()
    if job is not None:
        import_check(job=job)


@shared_task(name="imports.apply_import")
def apply_import(job_id: int, user_id: int) -> None:
    job = ImportJob.objects.filter(pk=job_id).first()
    user = get_user_model().objects.filter(pk=user_id, is_active=True).first()
    if job is not None and user is not None:
        import_apply(job=job, user=user)


@shared_task(name="imports.resume_imports")
def resume_imports() -> int:
    """Beat's sweep: queue again the dry runs and imports whose job was lost."""
    resumed = imports_resume(older_than=datetime.timedelta(seconds=settings.JOB_REQUEUE_SECONDS))
    for task, job_id in resumed:
        if task == "check":
            enqueue(check_import, job_id)
        else:
            job = ImportJob.objects.get(pk=job_id)
            enqueue(apply_import, job_id, job.confirmed_by_id)
    return len(resumed)
