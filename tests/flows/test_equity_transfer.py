"""Equity transfer (股权转让) on the spine: only between members, never more shares than held."""

from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import translation

from flows import services
from flows.models import Decision, EquityTransfer, Matter, MatterStatus, Step
from forms.equity_transfer import EquityTransferApplicationForm
from registers.models import MemberStatus, ShareCertificate, ShareKind, ShareLedgerEntry, ShareReason
from registers.shares import certificates_reissue, holdings, shares_allocate
from tests.drive import act, refresh, run_to_end
from tests.factories import MemberFactory
from tests.flows.test_spine import to_step

pytestmark = pytest.mark.django_db

MEDIUM_PATH = [
    Step.APPLY,
    Step.PROPOSE,
    Step.DELIBERATE,
    Step.REVIEW_BY_PARTY_MEMBERS,
    Step.RESOLVE_BY_MEMBERS,
    Step.PUBLISH_RESOLUTION,
    Step.CHECK_BY_TOWNSHIP,
    Step.APPROVE_BY_TOWNSHIP,
    Step.IMPLEMENT,
    Step.PUBLISH_RESULT,
    Step.ARCHIVE,
]


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
    """A member of A1 holding 10 population and 4 labour-age shares, with a certificate for them."""
    member = world.members_a1[10]
    shares_allocate(member=member, kind=ShareKind.POPULATION, shares=10)
    shares_allocate(member=member, kind=ShareKind.LABOUR_AGE, shares=4)
    certificates_reissue(members=[member])
    return member


@pytest.fixture
def receiver(world):
    return world.members_a1[11]


def transfer_data(holder, receiver, **overrides) -> dict:
    data = {
        "title": "股权内部转让",
        "kind": "internal_transfer",
        "from_member": holder,
        "to_member": receiver,
        "share_kind": ShareKind.POPULATION,
        "shares": 3,
        "price": Decimal("0.00"),
        "reason": "双方自愿协商转让",
    }
    data.update(overrides)
    return data


def apply_transfer(world, holder, receiver, **overrides) -> Matter:
    return services.matter_apply(
        user=world.secretary_a1,
        organization=world.collective_a1,
        transaction_type="equity_transfer",
        data=transfer_data(holder, receiver, **overrides),
    )


def refused(world, holder, receiver, **overrides) -> ValidationError:
    """Apply and expect a refusal that leaves no matter, no application and no ledger entry behind."""
    counts = (Matter.objects.count(), EquityTransfer.objects.count(), ShareLedgerEntry.objects.count())
    with pytest.raises(ValidationError) as error:
        apply_transfer(world, holder, receiver, **overrides)
    assert (Matter.objects.count(), EquityTransfer.objects.count(), ShareLedgerEntry.objects.count()) == counts
    return error.value


# --- through the spine -------------------------------------------------------------


def test_internal_transfer_with_a_price_runs_the_whole_spine_to_the_archive(world, holder, receiver):
    old_certificate = holder.certificates.get()
    matter = apply_transfer(world, holder, receiver, price=Decimal("3600"))
    assert matter.amount == Decimal("3600.00")
    assert matter.required_steps == MEDIUM_PATH
    assert matter.member_body == "member_representatives"  # the collective's own body decides its shares
    matter = run_to_end(world, matter)
    assert matter.status == MatterStatus.ARCHIVED
    assert matter.archive_number.startswith("A1-JJ-")
    assert matter.step_records.filter(step=Step.IMPLEMENT, decision=Decision.DONE).exists()

    entries = list(matter.share_entries.order_by("change"))
    assert [(e.member, e.kind, e.change, e.reason, e.counterpart) for e in entries] == [
        (holder, ShareKind.POPULATION, -3, ShareReason.INTERNAL_TRANSFER, receiver),
        (receiver, ShareKind.POPULATION, 3, ShareReason.INTERNAL_TRANSFER, holder),
    ]
    assert holdings(holder) == {ShareKind.POPULATION: 7, ShareKind.LABOUR_AGE: 4}
    assert holdings(receiver) == {ShareKind.POPULATION: 3, ShareKind.LABOUR_AGE: 0}

    old_certificate.refresh_from_db()
    assert old_certificate.superseded_at is not None
    assert old_certificate.history.count() == 2
    new_holder, new_receiver = (matter.certificates.get(member=member) for member in (holder, receiver))
    assert new_holder.holdings == {"population": 7, "labour_age": 4}
    assert new_holder.number == f"A1-JJ-GQ{holder.pk}-2"
    assert new_receiver.holdings == {"population": 3}
    assert new_receiver.number == f"A1-JJ-GQ{receiver.pk}-1"
    assert new_holder.superseded_at is None and new_receiver.superseded_at is None
    assert matter.equity_transfer.history.count() == 1


@pytest.mark.parametrize("kind", ["inheritance", "gift"])
def test_free_transfers_run_the_spine_and_move_the_shares(world, holder, receiver, kind):
    matter = apply_transfer(world, holder, receiver, kind=kind, share_kind=ShareKind.LABOUR_AGE, shares=4)
    assert matter.amount == Decimal("0.00")
    assert matter.required_steps == MEDIUM_PATH
    matter = run_to_end(world, matter)
    assert matter.status == MatterStatus.ARCHIVED
    assert set(matter.share_entries.values_list("reason", flat=True)) == {kind}
    assert holdings(holder)[ShareKind.LABOUR_AGE] == 0
    assert holdings(receiver)[ShareKind.LABOUR_AGE] == 4
    assert matter.certificates.get(member=holder).holdings == {"population": 10}


def test_inheritance_from_a_deceased_holder(world, holder, receiver):
    holder.status = MemberStatus.DECEASED
    holder.save()
    matter = run_to_end(world, apply_transfer(world, holder, receiver, kind="inheritance", shares=10))
    assert matter.status == MatterStatus.ARCHIVED
    assert holdings(receiver)[ShareKind.POPULATION] == 10


def test_collective_redemption_takes_the_shares_back(world, holder):
    matter = apply_transfer(world, holder, None, kind="redemption", shares=10, price=Decimal("12000"))
    assert matter.amount == Decimal("12000.00")
    matter = run_to_end(world, matter)
    assert matter.status == MatterStatus.ARCHIVED
    entry = matter.share_entries.get()
    assert (entry.member, entry.change, entry.reason, entry.counterpart) == (holder, -10, ShareReason.REDEMPTION, None)
    assert matter.equity_transfer.to_member is None
    assert holdings(holder) == {ShareKind.POPULATION: 0, ShareKind.LABOUR_AGE: 4}
    assert matter.certificates.get().holdings == {"labour_age": 4}


# --- refusals at application ---------------------------------------------------------


def test_transfer_to_a_member_of_another_collective_is_refused(world, holder):
    outsider = world.collective_a2.members.first()
    error = refused(world, holder, outsider)
    assert error.message_dict["to_member"] == ["Shares can only be transferred to an active member of this collective."]


def test_transfer_to_someone_who_left_is_refused(world, holder):
    gone = MemberFactory(organization=world.collective_a1, status=MemberStatus.LEFT)
    assert "to_member" in refused(world, holder, gone).message_dict


@pytest.mark.parametrize("kind", ["internal_transfer", "gift", "redemption"])
def test_only_inheritance_takes_shares_from_a_deceased_holder(world, holder, receiver, kind):
    holder.status = MemberStatus.DECEASED
    holder.save()
    error = refused(world, holder, None if kind == "redemption" else receiver, kind=kind)
    assert error.message_dict["from_member"] == ["The holder must be an active member of this collective."]


def test_holder_of_another_collective_is_refused(world, receiver):
    outsider = world.collective_a2.members.first()
    shares_allocate(member=outsider, kind=ShareKind.POPULATION, shares=5)
    assert "from_member" in refused(world, outsider, receiver).message_dict


def test_transfer_of_more_shares_than_held_is_refused(world, holder, receiver):
    error = refused(world, holder, receiver, shares=11)
    assert error.message_dict["shares"] == [f"Never more shares than held: {holder.name} holds 10 (Population share)."]
    assert "shares" in refused(world, holder, receiver, share_kind=ShareKind.LABOUR_AGE, shares=5).message_dict


def test_shares_promised_in_a_running_transfer_count_against_the_holding(world, holder, receiver):
    running = apply_transfer(world, holder, receiver, shares=6)
    error = refused(world, holder, receiver, shares=5)
    message = error.message_dict["shares"][0]
    assert message.startswith("Never more shares than held")
    assert "6 of them already in running transfers, so at most 4" in message
    # Up to what is left is fine, and other kinds are not affected.
    apply_transfer(world, holder, receiver, shares=4)
    apply_transfer(world, holder, receiver, share_kind=ShareKind.LABOUR_AGE, shares=4)
    assert refresh(running).is_open


def test_a_rejected_or_implemented_transfer_no_longer_holds_shares(world, holder, receiver):
    first = apply_transfer(world, holder, receiver, shares=6)
    first = to_step(world, first, Step.CHECK_BY_TOWNSHIP)
    act(world.officer_a, first, decision=Decision.REJECT, opinion="材料不全")
    assert refresh(first).status == MatterStatus.REJECTED
    second = apply_transfer(world, holder, receiver, shares=8)
    second = to_step(world, second, Step.IMPLEMENT)
    act(world.cashier_a1, second, decision=Decision.DONE, opinion="已办理")
    assert refresh(second).next_step == Step.PUBLISH_RESULT  # implemented, its result still on the board
    assert holdings(holder)[ShareKind.POPULATION] == 2
    apply_transfer(world, holder, receiver, shares=2)
    assert "shares" in refused(world, holder, receiver, shares=1).message_dict


def test_redemption_names_no_receiver(world, holder, receiver):
    error = refused(world, holder, receiver, kind="redemption")
    assert error.message_dict["to_member"] == [
        "A collective redemption has no receiving member: the collective takes the shares back."
    ]


def test_redemption_of_more_than_held_is_refused(world, holder):
    assert "shares" in refused(world, holder, None, kind="redemption", shares=11).message_dict


def test_transfer_to_oneself_is_refused(world, holder):
    error = refused(world, holder, holder)
    assert error.message_dict["to_member"] == ["The receiving member must be someone other than the holder."]


@pytest.mark.parametrize("kind", ["internal_transfer", "gift", "inheritance"])
def test_a_transfer_between_members_needs_a_receiver(world, holder, kind):
    error = refused(world, holder, None, kind=kind)
    assert error.message_dict["to_member"] == ["Choose the member who receives the shares."]


@pytest.mark.parametrize("kind", ["gift", "inheritance"])
def test_gifts_and_inheritance_carry_no_price(world, holder, receiver, kind):
    error = refused(world, holder, receiver, kind=kind, price=Decimal("100"))
    assert error.message_dict["price"] == ["Inheritance and gifts carry no price."]


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"shares": 0}, "shares"),
        ({"price": Decimal("-1")}, "price"),
        ({"share_kind": "bonus"}, "share_kind"),
        ({"kind": "sale"}, "kind"),
    ],
)
def test_malformed_applications_are_refused(world, holder, receiver, overrides, field):
    assert field in refused(world, holder, receiver, **overrides).message_dict


# --- revision and implementation ----------------------------------------------------


def test_a_revision_does_not_count_its_own_shares_against_itself(world, holder, receiver):
    matter = to_step(world, apply_transfer(world, holder, receiver, shares=6), Step.APPROVE_BY_TOWNSHIP)
    act(world.leader_a, matter, decision=Decision.RETURN, opinion="份数有误", return_to=Step.APPLY)
    act(world.secretary_a1, matter, decision=Decision.SUBMIT, data=transfer_data(holder, receiver, shares=10))
    matter = refresh(matter)
    assert matter.equity_transfer.shares == 10
    assert matter.equity_transfer.history.count() == 2
    assert matter.next_step == Step.PROPOSE


def test_implementation_rechecks_the_holding_and_refuses_an_oversell(world, holder, receiver):
    matter = to_step(world, apply_transfer(world, holder, receiver, shares=6), Step.IMPLEMENT)
    # The holding shrank after the application (an allocation corrected downwards): only 4 are left.
    ShareLedgerEntry.objects.create(
        organization=world.collective_a1, member=holder, kind=ShareKind.POPULATION, change=-6, reason="allocation"
    )
    before = ShareLedgerEntry.objects.count()
    with pytest.raises(ValidationError) as error:
        act(world.cashier_a1, matter, decision=Decision.DONE, opinion="已办理")
    assert error.value.message_dict["shares"][0].startswith("Never more shares than held")
    assert ShareLedgerEntry.objects.count() == before
    assert not matter.certificates.exists()
    matter = refresh(matter)
    assert matter.next_step == Step.IMPLEMENT
    assert not matter.step_records.filter(step=Step.IMPLEMENT).exists()


def test_implementation_refuses_a_receiver_who_left_meanwhile(world, holder, receiver):
    matter = to_step(world, apply_transfer(world, holder, receiver), Step.IMPLEMENT)
    receiver.status = MemberStatus.LEFT
    receiver.save()
    with pytest.raises(ValidationError) as error:
        act(world.cashier_a1, matter, decision=Decision.DONE, opinion="已办理")
    assert "to_member" in error.value.message_dict
    assert not matter.share_entries.exists()


# --- the form and the pages -----------------------------------------------------------


def test_form_offers_only_members_of_the_collective(world, holder, receiver):
    outsider = world.collective_a2.members.first()
    gone = MemberFactory(organization=world.collective_a1, status=MemberStatus.LEFT)
    dead = MemberFactory(organization=world.collective_a1, status=MemberStatus.DECEASED)
    form = EquityTransferApplicationForm(organization=world.collective_a1)
    holders = set(form.main.fields["from_member"].queryset)
    receivers = set(form.main.fields["to_member"].queryset)
    assert holder in holders and dead in holders and outsider not in holders and gone not in holders
    assert receiver in receivers and outsider not in receivers and dead not in receivers and gone not in receivers


def post_body(world, holder, receiver, **overrides) -> dict:
    body = {
        "organization": str(world.collective_a1.pk),
        "title": "股权赠与",
        "kind": "gift",
        "from_member": str(holder.pk),
        "to_member": str(receiver.pk) if receiver else "",
        "share_kind": "population",
        "shares": "2",
        "price": "",
        "reason": "父女赠与",
    }
    body.update(overrides)
    return body


def test_applying_through_the_form(client, world, holder, receiver):
    client.force_login(world.secretary_a1)
    response = client.post(reverse("flows:matter_create", args=["equity_transfer"]), post_body(world, holder, receiver))
    assert response.status_code == 302
    transfer = EquityTransfer.objects.get()
    assert (transfer.kind, transfer.from_member, transfer.to_member, transfer.shares, transfer.price) == (
        "gift",
        holder,
        receiver,
        2,
        Decimal("0.00"),
    )
    assert transfer.matter.step_records.get(step=Step.APPLY).opinion == "父女赠与"


def test_the_form_refuses_a_non_member_and_too_many_shares(client, world, holder):
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    client.force_login(world.secretary_a1)
    outsider = world.collective_a2.members.first()
    url = reverse("flows:matter_create", args=["equity_transfer"])
    response = client.post(url, post_body(world, holder, outsider))
    assert response.status_code == 400
    assert "Select a valid choice" in response.content.decode()
    response = client.post(url, post_body(world, holder, world.members_a1[11], shares="40"))
    assert response.status_code == 400
    assert "Never more shares than held" in response.content.decode()
    assert not Matter.objects.exists()


def test_revision_form_starts_from_the_saved_application(world, holder, receiver):
    matter = apply_transfer(world, holder, receiver, shares=5)
    initial = matter.process.flow_class.instance.application_data(matter)
    assert initial["from_member"] == holder.pk and initial["to_member"] == receiver.pk
    assert (initial["shares"], initial["reason"]) == (5, "双方自愿协商转让")
    form = EquityTransferApplicationForm(initial=initial, organization=world.collective_a1)
    assert form.main["shares"].value() == 5


def test_matter_page_shows_the_ledger_entries_and_links_the_new_certificates(client, world, holder, receiver):
    matter = run_to_end(world, apply_transfer(world, holder, receiver))
    client.force_login(world.inspector)
    page = client.get(matter.get_absolute_url()).content.decode()
    for certificate in matter.certificates.all():
        assert reverse("registers:certificate_pdf", args=[certificate.pk]) in page
        assert certificate.number in page
    assert "-3" in page and "+3" in page
    assert ShareCertificate.objects.filter(matter=matter).count() == 2
