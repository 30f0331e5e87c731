"""Archiving: the 四性检测 report stored with the dossier, and the archive package the verifier checks."""

import io
import xml.etree.ElementTree as ElementTree
import zipfile

import pytest
from django.urls import reverse
from pypdf import PdfReader

from documents.archive import archive_check_run, archive_package
from documents.ledger_verify import ledger_verify
from documents.models import ArchiveCheck, LedgerEntry, RenderedDocument
from documents.sequencer import sequence_pending
from documents.tasks import render_document
from tests.documents.test_packages import run_offline, unpack, verdict
from tests.documents.test_rendering import archive_with_objection, attach

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


@pytest.fixture
def dossier(world) -> RenderedDocument:
    matter = archive_with_objection(world)
    document = RenderedDocument.objects.get(matter=matter, kind=RenderedDocument.Kind.DOSSIER)
    render_document.delay(document.pk).get()
    sequence_pending()
    document.refresh_from_db()
    return document


def test_archiving_stores_a_passing_four_properties_report_with_the_dossier(dossier):
    check = ArchiveCheck.objects.get(document=dossier)
    assert check.passed, check.report
    report = check.report
    assert report["standard"] == "DA/T 70-2018"
    assert {"authenticity", "integrity", "usability", "security"} <= report.keys()
    assert all(report[name]["passed"] for name in ("authenticity", "integrity", "usability", "security"))
    assert len(report["authenticity"]["items"]) >= 4, "the dossier, three scans and the matter's records"
    assert LedgerEntry.objects.filter(object_type="ArchiveCheck", object_pk=check.pk, kind="archive_check").exists()
    assert archive_check_run(document=dossier) == check, "once per dossier"
    assert ledger_verify().ok


def test_the_report_fails_a_damaged_scan_and_active_content(world, dossier, media_root):
    evidence = dossier.matter.evidence.get(content_type="image/png")
    (media_root / evidence.file.name).write_bytes(b"\x89PNG damaged")
    # Uploads refuse active content now; a file stored before that check, or swapped on disk, still has to fail.
    scripted = attach(world, dossier.matter, "带脚本.pdf", _pdf_with_javascript(script=False))
    (media_root / scripted.file.name).write_bytes(_pdf_with_javascript())
    ArchiveCheck.objects.all().delete()
    report = archive_check_run(document=dossier).report
    assert not report["passed"]
    assert not report["authenticity"]["passed"]
    assert not report["usability"]["passed"]
    failed = [item for item in report["security"]["items"] if not item["passed"]]
    assert failed and scripted.original_name in failed[0]["what"] and "JavaScript" in failed[0]["detail"]


def _pdf_with_javascript(script: bool = True) -> bytes:
    from pypdf import PdfWriter
    from pypdf.generic import DictionaryObject, NameObject, TextStringObject

    writer = PdfWriter()
    writer.add_blank_page(200, 200)
    if script:
        writer.root_object[NameObject("/OpenAction")] = DictionaryObject(
            {NameObject("/S"): NameObject("/JavaScript"), NameObject("/JS"): TextStringObject("app.alert('hello');")}
        )
    buffer = io.BytesIO()
    writer.write(buffer)
    return buffer.getvalue()


def test_the_archive_package_verifies_offline_and_holds_a_pdf_a3_with_its_attachments(client, world, dossier, tmp_path):
    client.force_login(world.inspector)
    response = client.get(reverse("documents:archive_package", args=[dossier.matter.pk]))
    assert response.status_code == 200, response.content
    path = tmp_path / "archive.zip"
    path.write_bytes(response.content)
    outcome = run_offline(path)
    assert outcome.returncode == 0, outcome.stdout + outcome.stderr
    for part in ("manifest.xml", "dossier.pdf", "archive-check.json", "scans/001-"):
        assert f"OK    {part}" in outcome.stdout, part
    members = zipfile.ZipFile(path)
    exported = members.read("dossier.pdf")
    with dossier.pdf.open("rb") as handle:
        archived = handle.read()
    assert exported.startswith(archived), "the archived dossier's bytes are kept, the attachments come after"
    reader = PdfReader(io.BytesIO(exported))
    assert {"verification.json", "archive-check.json"} <= set(reader.attachments)
    assert len(reader.attachments) == 5
    assert "/AF" in reader.trailer["/Root"]
    original = PdfReader(io.BytesIO(archived))
    assert original.pdf_header == "%PDF-1.7"
    assert original.trailer["/Root"]["/OutputIntents"][0].get_object()["/S"] == "/GTS_PDFA1"
    metadata = original.trailer["/Root"]["/Metadata"].get_object().get_data()
    assert b"pdfaid:part" in metadata and b"3" in metadata, "declared PDF/A-3"
    manifest = ElementTree.fromstring(members.read("manifest.xml"))
    assert manifest.findtext("业务实体块/档号") == dossier.matter.archive_number
    assert len(manifest.findall("文件实体块/文件")) == 6
    client.force_login(world.secretary_b1)
    assert client.get(reverse("documents:archive_package", args=[dossier.matter.pk])).status_code == 404


@pytest.mark.parametrize("part", ["manifest.xml", "manifest.sig", "dossier.pdf", "archive-check.json", "scan"])
def test_a_changed_byte_in_any_part_of_the_archive_package_fails_naming_it(dossier, tmp_path, part):
    folder = unpack(archive_package(matter=dossier.matter), tmp_path / "archive")
    assert verdict(folder) == (True, "")
    name = next(item for item in sorted(folder.rglob("*")) if item.name.startswith("001-")) if part == "scan" else None
    target = name or folder / part
    original = target.read_bytes()
    relative = str(target.relative_to(folder))
    for position in sorted({0, len(original) // 3, len(original) // 2, len(original) - 2}):
        altered = bytearray(original)
        altered[position] ^= 0x01
        target.write_bytes(bytes(altered))
        ok, failed = verdict(folder)
        assert not ok, f"byte {position} of {relative}"
        assert failed in {relative, "manifest.xml", "manifest.sig"}, (position, failed)
    target.write_bytes(original)
