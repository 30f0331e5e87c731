"""The import's Celery work: the dry run after upload, and the import after the administrator confirms."""

from celery import shared_task
from django.contrib.auth import get_user_model

from .models import ImportJob
from .services import import_apply, import_check


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
