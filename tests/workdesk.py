"""Matters for the workdesk tests: at a township step, with or without a scanned file as evidence."""

import io

from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from documents.services import evidence_store
from flows import services
from flows.models import Matter, Step
from tests.drive import apply_purchase, refresh
from tests.views.conftest import to_step


def scan(name: str = "报价单.png") -> SimpleUploadedFile:
    buffer = io.BytesIO()
    Image.new("RGB", (8, 8), "white").save(buffer, format="PNG")
    return SimpleUploadedFile(name, buffer.getvalue(), content_type="image/png")


def with_evidence(matter: Matter, user) -> Matter:
    evidence_store(matter=matter, step=Step.APPLY, upload=scan(), user=user)
    return matter


def waiting_at(
    world, step: str, *, total: str = "50000.00", evidence: bool = True, title: str = "购置办公电脑"
) -> Matter:
    """An A1 purchase carried to ``step``; 50000 needs both the officer's check and the leader's approval."""
    matter = apply_purchase(world, total=total, quotations=3, title=title)
    if evidence:
        with_evidence(matter, world.secretary_a1)
    return to_step(world, matter, step)


def task_of(matter: Matter):
    matter = refresh(matter)
    return services.active_task(matter, matter.next_step)
