"""Archive volumes a records office accepts: the 四性检测 at archiving, and the archive package export.

四性检测 (after DA/T 70): when a dossier is rendered for an archived matter, the four properties are
checked and the report is stored with it (an ArchiveCheck row, itself covered by the log):
- authenticity (真实性): every file's stored bytes match the SHA-256 and SM3 taken on arrival, and the
  matter's records match their leaves in the signed log;
- integrity (完整性): the metadata is complete (matter, archive number, a record of every step its path
  required, every meeting's minutes, attendance and vote, every notice's period) and no file is missing;
- usability (可用性): every file opens and renders (PDF pages parse, images decode), the dossier too;
- security (安全性): no active content (JavaScript, launch actions, embedded files or encryption in a PDF)
  and every file of an accepted type.

The archive package (a ZIP, after DA/T 48's idea of one self-describing package): ``dossier.pdf`` is the
archived PDF/A-3 dossier with an incremental update that embeds its scans, the verification package and
the report (its first bytes stay exactly the logged dossier); ``scans/`` the original files;
``verification.json`` the leaves and proofs of the dossier, every file, the matter and the report;
``archive-check.json`` the report; ``manifest.xml`` the metadata and every file's size, SHA-256 and SM3;
``manifest.sig`` the log key's signature over the manifest. tools/verify_package.py checks it all.
"""

import datetime
import io
import xml.etree.ElementTree as ElementTree

from django.conf import settings
from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from flows.models import Step

from . import coverage as covered
from .digests import fingerprint_bytes
from .ledger import canonical_json
from .ledger_verify import latest_leaf, ledger_verify_matter
from .models import ArchiveCheck, Evidence, RenderedDocument, RenderStatus
from .packages import verification_document, verification_json, zip_members
from .signing import join_note, signers

ACTIVE_CONTENT = (b"/JavaScript", b"/JS ", b"/JS(", b"/JS<", b"/Launch", b"/RichMedia", b"/EmbeddedFile", b"/Encrypt")
ACCEPTED_TYPES = {"application/pdf", "image/jpeg", "image/png", "image/tiff"}
MANIFEST_HEADER = "sanzi-archive-manifest/1"


def _read(field_file) -> bytes:
    with field_file.storage.open(field_file.name, "rb") as handle:
        return handle.read()


def _item(what: str, passed: bool, detail: str = "") -> dict:
    return {"what": what, "passed": passed, "detail": detail}


def _opens(data: bytes, content_type: str) -> tuple[bool, str, int]:
    """(opens, why not, pages) of a file, by decoding it fully."""
    try:
        if content_type == "application/pdf":
            from pypdf import PdfReader

            reader = PdfReader(io.BytesIO(data))
            pages = len(reader.pages)
            for page in reader.pages:
                page.extract_text()  # decodes the page's content streams
            return pages > 0, "" if pages else _("no pages"), pages
        from PIL import Image

        with Image.open(io.BytesIO(data)) as image:
            image.load()
            return True, "", getattr(image, "n_frames", 1)
    # A damaged file makes the decoder raise anything; the report names the file and the error.
    except Exception as error:
        return False, type(error).__name__, 0


def _active_content(data: bytes, content_type: str) -> list[str]:
    if content_type != "application/pdf":
        return []
    return sorted({marker.decode().strip("( <") for marker in ACTIVE_CONTENT if marker in data})


def four_properties(document: RenderedDocument) -> dict:
    """The 四性检测 report of an archived matter's dossier (module docstring)."""
    matter = document.matter
    files = list(Evidence.objects.filter(matter=matter).order_by("pk"))
    authenticity, integrity, usability, security = [], [], [], []
    dossier = _read(document.pdf) if document.pdf else b""
    found = fingerprint_bytes(dossier)
    authenticity.append(
        _item(_("The dossier matches its fingerprint"), found.sha256 == document.sha256 and found.sm3 == document.sm3)
    )
    for evidence in files:
        try:
            data = _read(evidence.file)
        except OSError:
            integrity.append(_item(_("File present: %(name)s") % {"name": evidence.original_name}, False, "missing"))
            continue
        fingerprint = fingerprint_bytes(data)
        authenticity.append(
            _item(
                _("Fingerprint (SHA-256, SM3) of %(name)s") % {"name": evidence.original_name},
                fingerprint.sha256 == evidence.sha256 and (not evidence.sm3 or fingerprint.sm3 == evidence.sm3),
                fingerprint.sha256,
            )
        )
        opens, why, _pages = _opens(data, evidence.content_type)
        usability.append(_item(_("%(name)s opens and renders") % {"name": evidence.original_name}, opens, why))
        active = _active_content(data, evidence.content_type)
        security.append(
            _item(
                _("%(name)s has no active content and an accepted type") % {"name": evidence.original_name},
                not active and evidence.content_type in ACCEPTED_TYPES,
                ", ".join(active),
            )
        )
    matter_check = ledger_verify_matter(matter=matter, check_files=False)
    authenticity.append(_item(_("The matter's records match the signed log"), matter_check.ok, matter_check.reason))
    metadata = {
        _("title"): matter.title,
        _("archive number"): matter.archive_number,
        _("collective"): matter.organization_id,
        _("transaction type"): matter.transaction_type,
        _("amount"): matter.amount is not None,
        _("applicant"): matter.applicant_id,
    }
    missing = [name for name, value in metadata.items() if not value]
    integrity.append(_item(_("The matter's metadata is complete"), not missing, ", ".join(map(str, missing))))
    recorded = set(matter.step_records.values_list("step", flat=True))
    required = [step for step in matter.required_steps if step != Step.ARCHIVE]
    unrecorded = [step for step in required if step not in recorded]
    integrity.append(_item(_("Every required step has its record"), not unrecorded, ", ".join(unrecorded)))
    for decision in matter.meeting_decisions.select_related("meeting"):
        meeting = decision.meeting
        complete = bool(meeting.minutes.strip()) and meeting.expected_count > 0
        integrity.append(
            _item(_("Meeting of %(day)s: minutes, attendance and vote") % {"day": meeting.held_on}, complete)
        )
    for notice in matter.notices.all():
        integrity.append(
            _item(
                _("Notice “%(title)s”: published and closed") % {"title": notice.title},
                bool(notice.published_at and notice.closed_at),
            )
        )
    opens, why, pages = _opens(dossier, "application/pdf")
    usability.append(_item(_("The dossier opens and renders"), opens and pages == document.page_count, why))
    active = [name for name in _active_content(dossier, "application/pdf") if name != "EmbeddedFile"]
    security.append(_item(_("The dossier has no active content"), not active, ", ".join(active)))
    security.append(_item(_("Scanned for viruses"), True, _("not available here: files are checked by content")))
    sections = {
        "authenticity": authenticity,
        "integrity": integrity,
        "usability": usability,
        "security": security,
    }
    return {
        "standard": "DA/T 70-2018",
        "matter": matter.pk,
        "archive_number": matter.archive_number,
        "dossier": {"verification_code": document.verification_code, "sha256": document.sha256, "sm3": document.sm3},
        "checked_at": timezone.now().astimezone(datetime.UTC).isoformat(),
        **{name: {"passed": all(item["passed"] for item in items), "items": items} for name, items in sections.items()},
        "passed": all(all(item["passed"] for item in items) for items in sections.values()),
    }


def archive_check_run(*, document: RenderedDocument) -> ArchiveCheck:
    """Check an archived matter's dossier and store the report with it (once per rendered dossier)."""
    existing = ArchiveCheck.objects.filter(document=document).first()
    if existing is not None:
        return existing
    with translation.override(settings.LANGUAGE_CODE):
        report = four_properties(document)
    with transaction.atomic():
        check = ArchiveCheck(matter=document.matter, document=document, passed=report["passed"], report=report)
        check.full_clean()
        check.save()
    return check


# --- the package ---------------------------------------------------------------------------------


class NotArchived(Exception):
    """The matter has no rendered dossier or no check yet."""


def _embed(pdf: bytes, attachments: list[tuple[str, bytes, str, str]]) -> bytes:
    """The PDF with files attached as PDF/A-3 associated files, in an incremental update (its prefix is kept)."""
    from pypdf import PdfWriter
    from pypdf.generic import ArrayObject, NameObject

    writer = PdfWriter(io.BytesIO(pdf), incremental=True)
    for name, data, mime, relationship in attachments:
        embedded = writer.add_attachment(name, data)
        embedded.subtype = NameObject("/" + mime.replace("/", "#2F"))
        embedded.associated_file_relationship = NameObject(relationship)
    # PDF/A-3 wants each embedded file listed as an associated file of the document too.
    names = writer.root_object["/Names"]["/EmbeddedFiles"]["/Names"]
    writer.root_object[NameObject("/AF")] = ArrayObject(names[1::2])
    buffer = io.BytesIO()
    writer.write(buffer)
    data = buffer.getvalue()
    if not data.startswith(pdf):
        raise AssertionError("the incremental update changed the archived dossier")
    return data


def _manifest(matter, document, files: dict[str, bytes], originals: dict[str, int]) -> bytes:
    """The package's metadata and every file's fingerprint, as XML after DA/T 48's encapsulation."""
    root = ElementTree.Element("电子文件封装包", {"标准": "DA/T 48", "版本": "sanzi/1"})
    ElementTree.SubElement(root, "封装包类型").text = "原始型"
    business = ElementTree.SubElement(root, "业务实体块")
    for name, value in (
        ("档号", matter.archive_number),
        ("题名", matter.title),
        ("业务类型", matter.get_transaction_type_display()),
        ("金额", str(matter.amount)),
        ("立档单位", str(matter.organization)),
        ("申请人", matter.applicant.get_full_name() or matter.applicant.get_username()),
        ("申请时间", matter.created_at.isoformat()),
        ("归档时间", matter.finished_at.isoformat() if matter.finished_at else ""),
        ("校验码", document.verification_code),
    ):
        ElementTree.SubElement(business, name).text = value
    files_block = ElementTree.SubElement(root, "文件实体块")
    for name, data in files.items():
        item = ElementTree.SubElement(files_block, "文件")
        fingerprint = fingerprint_bytes(data)
        ElementTree.SubElement(item, "计算机文件名").text = name
        ElementTree.SubElement(item, "计算机文件大小").text = str(len(data))
        if name in originals:
            ElementTree.SubElement(item, "原件字节数").text = str(originals[name])
        ElementTree.SubElement(item, "数字摘要", {"算法": "SHA-256"}).text = fingerprint.sha256
        ElementTree.SubElement(item, "数字摘要", {"算法": "SM3"}).text = fingerprint.sm3
    ElementTree.indent(root)
    return ElementTree.tostring(root, encoding="utf-8", xml_declaration=True)


def manifest_signature(manifest: bytes) -> bytes:
    found = fingerprint_bytes(manifest)
    body = f"{MANIFEST_HEADER}\nmanifest.xml {found.sha256} {found.sm3}\n"
    return join_note(body, [signer.sign_note(body) for signer in signers()]).encode()


def archive_package(*, matter) -> bytes:
    """The archive volume of an archived matter as one package (module docstring)."""
    document = (
        RenderedDocument.objects.filter(
            matter=matter, kind=RenderedDocument.Kind.DOSSIER, status=RenderStatus.DONE, superseded_at__isnull=True
        )
        .order_by("-pk")
        .first()
    )
    check = ArchiveCheck.objects.filter(document=document).first() if document else None
    if document is None or check is None:
        raise NotArchived(_("This matter has no checked dossier yet."))
    evidence = list(Evidence.objects.filter(matter=matter).order_by("pk"))
    entries = [latest_leaf(covered.REGISTRY["documents.RenderedDocument"], document.pk)]
    entries += [latest_leaf(covered.REGISTRY["documents.Evidence"], item.pk) for item in evidence]
    entries += [
        latest_leaf(covered.REGISTRY["documents.ArchiveCheck"], check.pk),
        latest_leaf(covered.REGISTRY["flows.Matter"], matter.pk),
    ]
    proofs = verification_json(verification_document(subject="archive", entries=entries, document_name=None))
    report = canonical_json(check.report).encode()
    scans = {
        f"scans/{number:03d}-{item.pk}{item.extension}": _read(item.file) for number, item in enumerate(evidence, 1)
    }
    dossier = _read(document.pdf)
    attachments = [(name.split("/", 1)[1], data, _mime(name), "/Source") for name, data in scans.items()]
    attachments += [
        ("verification.json", proofs, "application/json", "/Supplement"),
        ("archive-check.json", report, "application/json", "/Supplement"),
    ]
    files = {
        "dossier.pdf": _embed(dossier, attachments),
        **scans,
        "verification.json": proofs,
        "archive-check.json": report,
    }
    manifest = _manifest(matter, document, files, {"dossier.pdf": len(dossier)})
    return zip_members({**files, "manifest.xml": manifest, "manifest.sig": manifest_signature(manifest)})


def _mime(name: str) -> str:
    extension = name.rsplit(".", 1)[-1].lower()
    return {"pdf": "application/pdf", "jpg": "image/jpeg", "jpeg": "image/jpeg", "png": "image/png"}.get(
        extension, "image/tiff"
    )
