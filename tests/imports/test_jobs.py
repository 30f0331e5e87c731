"""The import's jobs are safe to lose: beat queues a silent one again, and an import runs once."""

import datetime

from django.utils import timezone

from imports import services, tasks
from imports.models import ImportJob, ImportStatus
from registers.models import Member
from tests.factories import valid_id_number

from .conftest import headers, upload, workbook_bytes


def members(world):
    rows = [[world.collective_a2.code, "张三", valid_id_number(), "H", "出生"]]
    return upload("m.xlsx", workbook_bytes({"成员": [headers("members")[:5], *rows]}))


def test_a_dry_run_whose_job_was_lost_is_queued_again(world, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    job = services.import_upload(user=world.county_admin, scope=world.county, kind="members", uploaded=members(world))
    ImportJob.objects.filter(pk=job.pk).update(heartbeat_at=timezone.now() - datetime.timedelta(hours=1))
    assert tasks.resume_imports() == 1
    job.refresh_from_db()
    assert job.status == ImportStatus.CHECKED
    assert tasks.resume_imports() == 0


def test_a_confirmed_import_whose_job_was_lost_runs_once(world, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    job = services.import_upload(user=world.county_admin, scope=world.county, kind="members", uploaded=members(world))
    job = services.import_check(job=job)
    services.import_confirm(job=job, user=world.county_admin)
    ImportJob.objects.filter(pk=job.pk).update(heartbeat_at=timezone.now() - datetime.timedelta(hours=1))
    count = Member.objects.count()
    assert tasks.resume_imports() == 1
    job.refresh_from_db()
    assert job.status == ImportStatus.APPLIED and job.applied_by == world.county_admin
    services.import_apply(job=ImportJob.objects.get(pk=job.pk), user=world.county_admin)
    tasks.apply_import(job.pk, world.county_admin.pk)
    assert Member.objects.count() == count + 1


def test_a_fresh_job_is_left_alone(world, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    services.import_upload(user=world.county_admin, scope=world.county, kind="members", uploaded=members(world))
    assert tasks.resume_imports() == 0
