"""Verification packages and the stand-alone verifier: checked with no site and no database, and a one-byte
change anywhere in a part fails naming the part."""

import hashlib
import importlib.util
import io
import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from documents.digests import sm3_hex
from documents.models import RenderedDocument, Witness
from documents.packages import NotProvable, build_package
from documents.sequencer import sequence_pending
from documents.services import evidence_store
from documents.signing import cosign
from documents.witness import cosignature_accept
from flows.models import Step
from tests.documents.test_ledger import PNG_BYTES, proposed
from tests.drive import apply_purchase

pytestmark = pytest.mark.django_db

VERIFIER = Path(__file__).resolve().parents[2] / "tools" / "verify_package.py"
PDF = b"%PDF-1.7\n% the dossier of a matter\n%%EOF\n"


def load_verifier():
    spec = importlib.util.spec_from_file_location("verify_package", VERIFIER)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


verifier = load_verifier()


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


def dossier(world) -> RenderedDocument:
    matter = proposed(world)
    document = RenderedDocument(
        kind=RenderedDocument.Kind.DOSSIER,
        matter=matter,
        status="done",
        sha256=hashlib.sha256(PDF).hexdigest(),
        sm3=sm3_hex(PDF),
        verification_code="PKG-1",
    )
    document.pdf.save("dossier.pdf", ContentFile(PDF), save=False)
    document.save()
    sequence_pending()
    return document


def package_of(client, world) -> bytes:
    dossier(world)
    client.force_login(world.inspector)
    response = client.get(reverse("documents:document_package", args=["PKG-1"]))
    assert response.status_code == 200, response.content
    return response.content


def run_offline(path: Path, *args) -> subprocess.CompletedProcess:
    """The verifier as a villager's laptop runs it: its own process, no project on the path, no settings."""
    environment = {key: value for key, value in os.environ.items() if not key.startswith(("DJANGO", "DATABASE"))}
    return subprocess.run(
        [sys.executable, "-I", str(VERIFIER), str(path), *args],
        capture_output=True,
        text=True,
        cwd=path.parent,
        env=environment,
        timeout=60,
    )


def verdict(path, **kwargs) -> tuple[bool, str]:
    """(ok, the part that failed) from the verifier run in this process (fast, for many altered copies)."""
    try:
        verifier.verify(path, out=io.StringIO(), **kwargs)
    except verifier.Failure as failure:
        return False, failure.part
    return True, ""


def unpack(data: bytes, folder: Path) -> Path:
    folder.mkdir()
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        archive.extractall(folder)
    return folder


def test_a_dossier_package_verifies_offline(client, world, tmp_path):
    path = tmp_path / "package.zip"
    path.write_bytes(package_of(client, world))
    outcome = run_offline(path)
    assert outcome.returncode == 0, outcome.stdout + outcome.stderr
    assert "VERIFIED" in outcome.stdout
    assert "OK    document: document.pdf" in outcome.stdout
    assert "RenderedDocument no. " in outcome.stdout


def test_the_proof_alone_verifies_a_copy_of_the_document(client, world, tmp_path):
    dossier(world)
    proof = tmp_path / "proof.json"
    proof.write_bytes(client.get(reverse("documents:proof_download", args=["PKG-1"])).content)
    copy = tmp_path / "copy.pdf"
    copy.write_bytes(PDF)
    assert run_offline(proof, "--document", str(copy)).returncode == 0
    copy.write_bytes(PDF.replace(b"matter", b"mattes"))
    outcome = run_offline(proof, "--document", str(copy))
    assert outcome.returncode == 1
    assert "FAIL  document:" in outcome.stdout


@pytest.mark.parametrize("part", ["verification.json", "document.pdf"])
def test_a_one_byte_change_anywhere_in_a_part_fails_naming_it(client, world, tmp_path, part):
    folder = unpack(package_of(client, world), tmp_path / "package")
    assert verdict(folder) == (True, "")
    original = (folder / part).read_bytes()
    named = set()
    for position in range(len(original)):
        altered = bytearray(original)
        altered[position] ^= 0x01
        (folder / part).write_bytes(bytes(altered))
        ok, failed_part = verdict(folder)
        assert not ok, (
            f"a changed byte at {position} of {part} went unnoticed: {original[position - 60 : position + 20]!r}"
        )
        named.add(failed_part)
    (folder / part).write_bytes(original)
    if part == "document.pdf":
        assert named == {"document"}
    else:
        # Each kind of content is named for what it is.
        assert {
            "verification.json",
            "checkpoint (signed tree head)",
            "leaf 1 (payload)",
            "leaf 1 (inclusion proof)",
        } <= named
        assert named <= {
            "verification.json",
            "checkpoint (signed tree head)",
            "log keys",
            "leaf 1",
            "leaf 1 (payload)",
            "leaf 1 (leaf data)",
            "leaf 1 (inclusion proof)",
            "document",
            "document.pdf",
            "package",
        }


def test_a_one_byte_change_in_the_zip_fails(client, world, tmp_path):
    data = package_of(client, world)
    path = tmp_path / "package.zip"
    unnoticed = []
    for position in range(0, len(data)):
        altered = bytearray(data)
        altered[position] ^= 0x01
        path.write_bytes(bytes(altered))
        ok, _part = verdict(path)
        if ok:
            unnoticed.append(position)
    assert unnoticed == []


def test_a_key_you_trust_must_have_signed(client, world, tmp_path):
    path = tmp_path / "package.zip"
    path.write_bytes(package_of(client, world))
    package = json.loads(zipfile.ZipFile(path).read("verification.json"))
    assert verdict(path, trusted=package["log_keys"]) == (True, "")
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    from documents.signing import Signer

    stranger = Signer(name="someone.else/ledger", algorithm="ed25519", private=Ed25519PrivateKey.generate())
    assert verdict(path, trusted=[stranger.public.vkey]) == (False, "log keys")


def test_witness_cosignatures_travel_in_the_package(client, world, tmp_path):
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    from documents.signing import split_note
    from documents.witness import witness_public_key

    dossier(world)
    private = Ed25519PrivateKey.generate()
    Witness.objects.create(
        name="witness.county.example/1", description="县纪委监委", public_key=witness_public_key(private)
    )
    head = __import__("documents.sequencer", fromlist=["latest_head"]).latest_head()
    body = split_note(head.note)[0]
    line = cosign(name="witness.county.example/1", private=private, body=body, timestamp=1_790_000_000).line
    cosignature_accept(note=body + "\n" + line)
    client.force_login(world.inspector)
    path = tmp_path / "package.zip"
    path.write_bytes(client.get(reverse("documents:document_package", args=["PKG-1"])).content)
    outcome = run_offline(path)
    assert outcome.returncode == 0, outcome.stdout
    assert "OK    witness witness.county.example/1: cosigned" in outcome.stdout


def test_an_evidence_file_package_verifies(client, world, tmp_path):
    matter = apply_purchase(world)
    upload = SimpleUploadedFile("报价单.png", PNG_BYTES, content_type="image/png")
    evidence = evidence_store(matter=matter, step=Step.APPLY, upload=upload, user=world.secretary_a1)
    sequence_pending()
    client.force_login(world.secretary_a1)
    response = client.get(reverse("documents:evidence_package", args=[evidence.pk]))
    assert response.status_code == 200
    path = tmp_path / "evidence.zip"
    path.write_bytes(response.content)
    assert verdict(path) == (True, "")
    client.force_login(world.secretary_b1)
    assert client.get(reverse("documents:evidence_package", args=[evidence.pk])).status_code == 404


def test_no_package_for_a_record_not_yet_under_a_signed_head(world):
    document = RenderedDocument.objects.create(kind=RenderedDocument.Kind.MINUTES, verification_code="NEW-1")
    from documents.coverage import REGISTRY
    from documents.ledger_verify import latest_leaf

    entry = latest_leaf(REGISTRY["documents.RenderedDocument"], document.pk)
    with pytest.raises(NotProvable):
        build_package(subject="minutes", entries=[entry])


def test_a_share_certificate_package_verifies_with_its_pdf(client, world, tmp_path):
    from registers.models import ShareCertificate

    certificate = ShareCertificate(member=world.members_a1[0], number="A1-GQ-0001", holdings={"population": 3})
    certificate.pdf.save("A1-GQ-0001.pdf", ContentFile(b"%PDF-1.7\n% certificate\n"), save=False)
    certificate.save()
    sequence_pending()
    client.force_login(world.secretary_a1)
    response = client.get(reverse("documents:certificate_package", args=[certificate.pk]))
    assert response.status_code == 200
    path = tmp_path / "certificate.zip"
    path.write_bytes(response.content)
    assert verdict(path) == (True, "")
    client.force_login(world.secretary_b1)
    assert client.get(reverse("documents:certificate_package", args=[certificate.pk])).status_code == 404
