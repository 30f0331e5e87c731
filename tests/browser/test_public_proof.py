"""A villager scans the QR code of a printed dossier with a phone: the public page shows the proof, and the
proof downloaded from it checks out offline against the copy the villager holds."""

import hashlib

import pytest
from django.core.files.base import ContentFile
from playwright.sync_api import expect

from documents.digests import sm3_hex
from documents.models import RenderedDocument
from documents.sequencer import sequence_pending
from tests.conftest import build_world
from tests.documents.test_packages import run_offline
from tests.drive import act, apply_purchase

pytestmark = pytest.mark.django_db(transaction=True)

PDF = b"%PDF-1.7\n% a printed dossier\n%%EOF\n"


@pytest.fixture
def printed_dossier(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    world = build_world()
    matter = apply_purchase(world)
    act(world.secretary_a1, matter)
    document = RenderedDocument(
        kind=RenderedDocument.Kind.DOSSIER,
        matter=matter,
        status="done",
        sha256=hashlib.sha256(PDF).hexdigest(),
        sm3=sm3_hex(PDF),
        verification_code="PHONE-1",
    )
    document.pdf.save("dossier.pdf", ContentFile(PDF), save=False)
    document.save()
    sequence_pending()
    return document


def test_a_phone_opens_the_proof_page_and_the_downloaded_proof_verifies_offline(
    browser, live_server, printed_dossier, tmp_path
):
    context = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True, locale="zh-CN")
    page = context.new_page()
    page.goto(f"{live_server.url}/documents/verify/PHONE-1/")
    expect(page.locator("#verify-result")).to_have_attribute("data-ok", "yes")
    expect(page.locator("#verify-result .badge")).to_have_text("核验通过")
    expect(page.locator("#proof")).to_contain_text("签名树头")
    # Nothing spills sideways on a phone: the long hashes wrap.
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    with page.expect_download() as download:
        page.get_by_role("link", name="下载证明").click()
    proof = tmp_path / "proof.json"
    download.value.save_as(proof)
    copy = tmp_path / "my-copy.pdf"
    copy.write_bytes(PDF)
    outcome = run_offline(proof, "--document", str(copy))
    assert outcome.returncode == 0, outcome.stdout
    context.close()
