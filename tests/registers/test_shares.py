"""The share register: holdings from an append-only ledger, transfers, certificates and their PDFs."""

import io
import shutil
import subprocess

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import translation
from PIL import Image

from flows.models import EquityTransfer, EquityTransferKind
from registers.models import AppendOnly, MemberStatus, ShareCertificate, ShareKind, ShareLedgerEntry, ShareReason
from registers.shares import certificates_reissue, holdings, shares_allocate, shares_transfer
from registers.tasks import masked_id_number, render_certificate
from tests.drive import apply_purchase
from tests.factories import MemberFactory

pytestmark = pytest.mark.django_db

needs_poppler = pytest.mark.skipif(
    not (shutil.which("pdftotext") and shutil.which("pdftoppm")), reason="poppler-utils (pdftotext, pdftoppm) missing"
)

OUTSIDERS = ["secretary_a2", "supervisor_a2", "secretary_b1", "officer_b", "leader_b", "inspector_b"]
INSIDERS = ["secretary_a1", "cashier_a1", "supervisor_a1", "officer_a", "leader_a", "inspector", "county_admin"]


@pytest.fixture(autouse=True)
def english():
    """Messages are compared in their English source, whatever the catalogue says."""
    with translation.override("en"):
        yield


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


@pytest.fixture
def holder(world):
    member = MemberFactory(organization=world.collective_a1, name="张三丰", household="A1-09")
    shares_allocate(member=member, kind=ShareKind.POPULATION, shares=10)
    shares_allocate(member=member, kind=ShareKind.LABOUR_AGE, shares=4)
    return member


@pytest.fixture
def receiver(world):
    return MemberFactory(organization=world.collective_a1, name="李四", household="A1-10")


def a_matter(world):
    """Any matter of the collective: ledger entries and certificates only need one to point at."""
    return apply_purchase(world)


def a_transfer(matter, holder, receiver, *, kind=EquityTransferKind.INTERNAL_TRANSFER, shares=3):
    return EquityTransfer.objects.create(
        matter=matter,
        kind=kind,
        from_member=holder,
        to_member=receiver,
        share_kind=ShareKind.POPULATION,
        shares=shares,
    )


# --- holdings and allocation -------------------------------------------------------


def test_holdings_are_the_sums_of_the_ledger_per_kind(holder, receiver):
    assert holdings(holder) == {ShareKind.POPULATION: 10, ShareKind.LABOUR_AGE: 4}
    assert holdings(receiver) == {ShareKind.POPULATION: 0, ShareKind.LABOUR_AGE: 0}
    entry = holder.share_entries.first()
    assert (entry.reason, entry.organization, entry.matter) == (ShareReason.ALLOCATION, holder.organization, None)


@pytest.mark.parametrize(
    ("kind", "shares", "status", "message"),
    [
        (ShareKind.POPULATION, 0, MemberStatus.ACTIVE, "Allocate at least one share."),
        ("bogus", 3, MemberStatus.ACTIVE, "Choose a share kind."),
        (ShareKind.POPULATION, 3, MemberStatus.LEFT, "Shares are allocated only to active members."),
    ],
)
def test_allocation_refusals_change_nothing(world, kind, shares, status, message):
    member = MemberFactory(organization=world.collective_a1, status=status)
    with pytest.raises(ValidationError) as error:
        shares_allocate(member=member, kind=kind, shares=shares)
    assert message in error.value.messages
    assert not ShareLedgerEntry.objects.filter(member=member).exists()


def test_ledger_entries_can_be_neither_changed_nor_deleted(holder):
    entry = holder.share_entries.first()
    entry.change = 100
    with pytest.raises(AppendOnly):
        entry.save()
    with pytest.raises(AppendOnly):
        entry.delete()
    entry.refresh_from_db()
    assert entry.change == 10
    assert holdings(holder)[ShareKind.POPULATION] == 10


# --- transfers ---------------------------------------------------------------------


def test_transfer_writes_two_linked_entries_and_new_certificates(world, holder, receiver):
    matter = a_matter(world)
    entries = shares_transfer(transfer=a_transfer(matter, holder, receiver), matter=matter)
    assert [(e.member, e.change, e.counterpart, e.reason, e.matter) for e in entries] == [
        (holder, -3, receiver, ShareReason.INTERNAL_TRANSFER, matter),
        (receiver, 3, holder, ShareReason.INTERNAL_TRANSFER, matter),
    ]
    assert holdings(holder) == {ShareKind.POPULATION: 7, ShareKind.LABOUR_AGE: 4}
    assert holdings(receiver) == {ShareKind.POPULATION: 3, ShareKind.LABOUR_AGE: 0}
    assert holder.certificates.get(superseded_at__isnull=True).holdings == {"population": 7, "labour_age": 4}
    assert receiver.certificates.get(superseded_at__isnull=True).holdings == {"population": 3}
    assert set(matter.certificates.values_list("member", flat=True)) == {holder.pk, receiver.pk}


def test_transfer_of_more_than_held_is_refused_and_changes_nothing(world, holder, receiver):
    matter = a_matter(world)
    before = ShareLedgerEntry.objects.count()
    with pytest.raises(ValidationError) as error:
        shares_transfer(transfer=a_transfer(matter, holder, receiver, shares=11), matter=matter)
    assert error.value.message_dict["shares"][0].startswith("Never more shares than held")
    assert ShareLedgerEntry.objects.count() == before
    assert not ShareCertificate.objects.exists()


def test_transfer_to_someone_who_left_is_refused_at_implementation(world, holder, receiver):
    matter = a_matter(world)
    transfer = a_transfer(matter, holder, receiver)
    receiver.status = MemberStatus.LEFT
    receiver.save()
    with pytest.raises(ValidationError) as error:
        shares_transfer(transfer=transfer, matter=matter)
    assert "to_member" in error.value.message_dict
    assert holdings(holder)[ShareKind.POPULATION] == 10


def test_redemption_writes_only_the_holders_entry(world, holder):
    matter = a_matter(world)
    transfer = a_transfer(matter, holder, None, kind=EquityTransferKind.REDEMPTION, shares=4)
    (entry,) = shares_transfer(transfer=transfer, matter=matter)
    assert (entry.member, entry.change, entry.reason, entry.counterpart) == (holder, -4, ShareReason.REDEMPTION, None)
    assert holdings(holder)[ShareKind.POPULATION] == 6


# --- certificates ------------------------------------------------------------------


def test_reissue_supersedes_the_current_certificate(world, holder):
    (first,) = certificates_reissue(members=[holder])
    assert first.number == f"A1-JJ-GQ{holder.pk}-1"
    assert first.holdings == {"population": 10, "labour_age": 4}
    assert first.superseded_at is None
    shares_allocate(member=holder, kind=ShareKind.POPULATION, shares=2)
    matter = a_matter(world)
    (second,) = certificates_reissue(members=[holder], matter=matter)
    first.refresh_from_db()
    assert first.superseded_at is not None
    assert first.history.count() == 2
    assert (second.number, second.holdings, second.matter) == (
        f"A1-JJ-GQ{holder.pk}-2",
        {"population": 12, "labour_age": 4},
        matter,
    )
    assert list(holder.certificates.filter(superseded_at__isnull=True)) == [second]


def test_a_holder_left_with_nothing_gets_no_new_certificate(world, holder):
    (old,) = certificates_reissue(members=[holder])
    for kind, shares in ((ShareKind.POPULATION, 10), (ShareKind.LABOUR_AGE, 4)):
        matter = a_matter(world)
        transfer = EquityTransfer.objects.create(
            matter=matter, kind=EquityTransferKind.REDEMPTION, from_member=holder, share_kind=kind, shares=shares
        )
        shares_transfer(transfer=transfer, matter=matter)
    old.refresh_from_db()
    assert old.superseded_at is not None
    assert not holder.certificates.filter(superseded_at__isnull=True).exists()
    assert holder.certificates.count() == 2  # the one issued after the first redemption, superseded by the second


def test_reissue_queues_the_pdf_after_commit(world, holder, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        (certificate,) = certificates_reissue(members=[holder])
    assert len(callbacks) == 1
    certificate.refresh_from_db()
    assert certificate.pdf.name.startswith("certificates/")
    assert certificate.pdf.read(5) == b"%PDF-"


def test_id_number_is_masked_but_the_last_four():
    assert masked_id_number("14012319800517001X") == "**************001X"


@needs_poppler
def test_certificate_pdf_shows_the_holder_and_collective_in_real_glyphs(world, holder):
    (certificate,) = certificates_reissue(members=[holder])
    name = render_certificate(certificate.pk)
    certificate.refresh_from_db()
    assert certificate.pdf.name == name
    path_on_disk = certificate.pdf.path
    text = subprocess.run(["pdftotext", path_on_disk, "-"], capture_output=True, check=True, text=True).stdout
    assert "张三丰" in text
    assert "柳树村股份经济合作社" in text
    assert certificate.number in text
    assert holder.id_number[-4:] in text
    assert holder.id_number not in text
    png = subprocess.run(
        ["pdftoppm", "-png", "-r", "50", "-f", "1", "-l", "1", path_on_disk], capture_output=True, check=True
    ).stdout
    image = Image.open(io.BytesIO(png)).convert("L")
    width, height = image.size
    assert width > height  # A5 landscape
    dark = sum(image.histogram()[:128])
    assert dark > 2000, "the page is (nearly) blank: the glyphs did not render"


def test_rendering_twice_keeps_the_first_pdf(world, holder):
    (certificate,) = certificates_reissue(members=[holder])
    first = render_certificate(certificate.pk)
    assert render_certificate(certificate.pk) == first
    _dirs, files = certificate.pdf.storage.listdir("certificates")
    assert len(files) == 1


# --- the certificate page ----------------------------------------------------------


def test_certificate_pdf_requires_login(client, world, holder):
    (certificate,) = certificates_reissue(members=[holder])
    response = client.get(reverse("registers:certificate_pdf", args=[certificate.pk]))
    assert response.status_code == 302
    assert "/accounts/login/" in response["Location"]


@pytest.mark.parametrize("persona", OUTSIDERS)
def test_certificate_of_another_village_is_404(client, world, holder, persona):
    (certificate,) = certificates_reissue(members=[holder])
    render_certificate(certificate.pk)
    client.force_login(getattr(world, persona))
    assert client.get(reverse("registers:certificate_pdf", args=[certificate.pk])).status_code == 404


@pytest.mark.parametrize("persona", INSIDERS)
def test_certificate_pdf_is_served_inside_the_jurisdiction(client, world, holder, persona):
    (certificate,) = certificates_reissue(members=[holder])
    render_certificate(certificate.pk)
    client.force_login(getattr(world, persona))
    response = client.get(reverse("registers:certificate_pdf", args=[certificate.pk]))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == f'inline; filename="{certificate.number}.pdf"'
    assert b"".join(response.streaming_content).startswith(b"%PDF-")


def test_certificate_not_yet_rendered_is_a_202_page_and_is_queued_again(client, world, holder):
    (certificate,) = certificates_reissue(members=[holder])
    client.force_login(world.secretary_a1)
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    response = client.get(reverse("registers:certificate_pdf", args=[certificate.pk]))
    assert response.status_code == 202
    assert "being rendered" in response.content.decode()
    # Tests run tasks in-process, so the render queued by the page has already happened.
    response = client.get(reverse("registers:certificate_pdf", args=[certificate.pk]))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"


def test_bulk_update_and_delete_of_the_ledger_are_refused(db):
    from registers.models import AppendOnly, ShareLedgerEntry

    with pytest.raises(AppendOnly):
        ShareLedgerEntry.objects.all().update(change=5)
    with pytest.raises(AppendOnly):
        ShareLedgerEntry.objects.all().delete()
