"""Workbooks built in memory for the importer's tests, and a helper that runs an upload to its end."""

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from openpyxl import Workbook

from imports import services
from imports.importers import IMPORTERS
from organizations.credit_code import credit_check_character


def workbook_bytes(sheets: dict[str, list[list]]) -> bytes:
    """{sheet name: [header row, row, …]} as .xlsx bytes."""
    workbook = Workbook()
    workbook.remove(workbook.active)
    for name, rows in sheets.items():
        sheet = workbook.create_sheet(name)
        for row in rows:
            sheet.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def upload(name: str, content: bytes) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content, content_type="application/octet-stream")


def headers(kind: str, sheet: int = 0) -> list[str]:
    return IMPORTERS[kind].sheets[sheet].headers


@pytest.fixture
def run_import(world, settings, tmp_path):
    """Upload, dry-run and (with confirm) import a workbook as the county administrator; the job at the end."""
    settings.MEDIA_ROOT = tmp_path

    def run(kind: str, sheets: dict, *, confirm: bool = False, user=None, scope=None):
        user = user or world.county_admin
        job = services.import_upload(
            user=user, scope=scope or world.county, kind=kind, uploaded=upload("data.xlsx", workbook_bytes(sheets))
        )
        job = services.import_check(job=job)
        if confirm and job.status == "checked":
            services.import_confirm(job=job, user=user)
            job = services.import_apply(job=job, user=user)
        return job

    return run


def credit_code(serial: int, prefix: str = "N2140123") -> str:
    """A unified social credit code with a correct GB 32100 check character."""
    first = f"{prefix}{serial:09d}"
    return first + credit_check_character(first)
