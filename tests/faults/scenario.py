"""Steps of the fault tests, run inside a disposable installation: ``python -m tests.faults.scenario STEP``.

prepare      an archived matter with ten page scans; archiving asks for its dossier (queued, not rendered)
check ID     what became of rendered document ID: status, attempts, its file against its fingerprint, the ledger
Each step prints one line of JSON.
"""

import hashlib
import io
import json
import sys

import django


def page_scan(number: int) -> bytes:
    """A scanned A4 page at 150 dpi: lines of "text" and a page number, as a document camera sends it."""
    from PIL import Image, ImageDraw

    page = Image.new("RGB", (1240, 1754), "white")
    draw = ImageDraw.Draw(page)
    for line in range(60):
        width = 900 - (line * 37 + number * 53) % 400
        draw.rectangle((120, 120 + line * 25, 120 + width, 132 + line * 25), fill=(30, 30, 30))
    draw.text((600, 1680), str(number), fill="black")
    buffer = io.BytesIO()
    page.save(buffer, "PNG")
    return buffer.getvalue()


def prepare() -> dict:
    from django.core.files.uploadedfile import SimpleUploadedFile

    from documents.models import RenderedDocument
    from documents.services import evidence_store
    from tests.conftest import build_world
    from tests.drive import apply_purchase, run_to_end

    world = build_world()
    matter = apply_purchase(world)
    for number in range(1, 11):
        upload = SimpleUploadedFile(f"扫描{number}.png", page_scan(number))
        evidence_store(matter=matter, step="apply", upload=upload, user=world.secretary_a1)
    matter = run_to_end(world, matter)
    document = RenderedDocument.objects.get(matter=matter, kind=RenderedDocument.Kind.DOSSIER)
    return {"matter": matter.pk, "document": document.pk, "status": document.status}


def check(document_id: str) -> dict:
    from documents.models import LedgerEntry, RenderedDocument

    document = RenderedDocument.objects.get(pk=int(document_id))
    stored = ""
    if document.pdf:
        with document.pdf.open("rb") as handle:
            stored = hashlib.sha256(handle.read()).hexdigest()
    return {
        "status": document.status,
        "attempts": document.attempts,
        "page_count": document.page_count,
        "sha256": document.sha256,
        "stored_sha256": stored,
        # The request is logged when made; the rendered PDF once, however many workers tried it.
        "ledger_entries": LedgerEntry.objects.filter(
            kind="dossier",
            object_type="RenderedDocument",
            object_id=str(document.pk),
            payload__fields__sha256=document.sha256,
        ).count(),
        "error": document.error,
    }


STEPS = {"prepare": prepare, "check": check}

if __name__ == "__main__":
    django.setup()
    step, *arguments = sys.argv[1:]
    print(json.dumps(STEPS[step](*arguments)))
