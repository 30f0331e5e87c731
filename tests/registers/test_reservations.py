"""Reservations: an application holds what it commits until its matter ends (registers/reservations.py)."""

import datetime
import io
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.db import IntegrityError, transaction
from django.utils import translation

from flows import services
from flows.models import Decision, Matter, MatterStatus, Step
from organizations.models import MeetingBody, MeetingRule, OnFailedVote
from registers.contracts import contract_create, payment_schedule
from registers.models import ContractKind, Reservation, ReservationKind, ReservationState, ShareKind
from registers.reservations import (
    asset_reserve,
    reservations_consume,
    reservations_release,
    resource_term_reserve,
    shares_reserve,
    shares_reserved,
)
from registers.shares import shares_allocate
from tests.drive import act, hold_meeting, refresh
from tests.flows.test_disposal import apply_disposal, asset_card
from tests.flows.test_equity_transfer import apply_transfer, transfer_data
from tests.flows.test_leasing import apply as apply_lease
from tests.flows.test_leasing import leasing_data
from tests.flows.test_resource_contracting import apply as apply_contracting
from tests.flows.test_resource_contracting import contracting_data, make_resource
from tests.flows.test_spine import to_step

pytestmark = pytest.mark.django_db

D = datetime.date


@pytest.fixture(autouse=True)
def english():
    """Messages are compared in their English source, whatever the catalogue says."""
    with translation.override("en"):
        yield


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def holder(world):
    member = world.members_a1[10]
    shares_allocate(member=member, kind=ShareKind.POPULATION, shares=10)
    return member


@pytest.fixture
def receiver(world):
    return world.members_a1[11]


@pytest.fixture
def asset(world):
    return asset_card(world.collective_a1)


@pytest.fixture
def resource(world):
    return make_resource(world.collective_a1, "A1-JJ-ZY00077")


def bare_matter(world, title="另一事项", transaction_type="equity_transfer") -> Matter:
    """A running matter made directly: only what it reserves matters here."""
    return Matter.objects.create(
        organization=world.collective_a1,
        transaction_type=transaction_type,
        title=title,
        amount=Decimal("0.00"),
        applicant=world.secretary_a1,
        rule_version=world.rule_version,
        band=world.rule_version.bands.filter(transaction_type=transaction_type).first(),
    )


def held(matter) -> list[Reservation]:
    return list(matter.reservations.filter(state=ReservationState.HELD))


# --- the services, on their own ---------------------------------------------------------------------------


def test_shares_reserve_holds_and_refuses_more_than_is_free(world, holder):
    first, second = bare_matter(world, "甲"), bare_matter(world, "乙")
    reservation = shares_reserve(matter=first, member=holder, kind=ShareKind.POPULATION, shares=7)
    assert (reservation.kind, reservation.shares, reservation.state) == (ReservationKind.SHARES, 7, "held")
    assert shares_reserved(member=holder, kind=ShareKind.POPULATION) == 7
    with pytest.raises(ValidationError) as error:
        shares_reserve(matter=second, member=holder, kind=ShareKind.POPULATION, shares=4)
    message = " ".join(error.value.message_dict["shares"])
    assert "7 of them already in running transfers" in message and "at most 3" in message
    assert not second.reservations.exists()
    assert shares_reserve(matter=second, member=holder, kind=ShareKind.POPULATION, shares=3).shares == 3
    # Another kind of share is another holding: nothing of it is held.
    with pytest.raises(ValidationError):
        shares_reserve(matter=bare_matter(world, "丙"), member=holder, kind=ShareKind.LABOUR_AGE, shares=1)


def test_a_revised_reservation_replaces_the_matters_own(world, holder):
    matter = bare_matter(world)
    first = shares_reserve(matter=matter, member=holder, kind=ShareKind.POPULATION, shares=10)
    # Its own 10 do not count against it: the revision asks for 8 of the 10.
    revised = shares_reserve(matter=matter, member=holder, kind=ShareKind.POPULATION, shares=8)
    first.refresh_from_db()
    assert first.state == ReservationState.RELEASED and first.ended_at is not None
    assert held(matter) == [revised]
    # Asking again for the same keeps the reservation as it is.
    assert shares_reserve(matter=matter, member=holder, kind=ShareKind.POPULATION, shares=8) == revised
    assert matter.reservations.count() == 2


def test_release_frees_and_consume_ends_a_reservation(world, holder):
    first, second = bare_matter(world, "甲"), bare_matter(world, "乙")
    shares_reserve(matter=first, member=holder, kind=ShareKind.POPULATION, shares=10)
    assert reservations_release(matter=first) == 1
    assert reservations_release(matter=first) == 0  # twice is harmless
    assert first.reservations.get().state == ReservationState.RELEASED
    shares_reserve(matter=second, member=holder, kind=ShareKind.POPULATION, shares=10)
    assert reservations_consume(matter=second) == 1
    assert second.reservations.get().state == ReservationState.CONSUMED
    assert shares_reserved(member=holder, kind=ShareKind.POPULATION) == 0


def test_an_asset_is_reserved_by_one_matter_at_a_time(world, asset):
    first, second = bare_matter(world, "出租", "leasing"), bare_matter(world, "处置", "disposal")
    asset_reserve(matter=first, asset=asset)
    with pytest.raises(ValidationError) as error:
        asset_reserve(matter=second, asset=asset)
    assert error.value.message_dict["asset"] == [
        f"{asset} is reserved by the running matter “出租”; it is free again once that matter is withdrawn, "
        "rejected or stopped."
    ]
    reservations_release(matter=first)
    assert asset_reserve(matter=second, asset=asset).matter == second


def test_the_database_refuses_a_second_held_reservation_of_one_asset(world, asset):
    """The constraint holds even for code that skips the service (and its lock)."""
    asset_reserve(matter=bare_matter(world, "甲", "leasing"), asset=asset)
    second = Reservation(
        organization=world.collective_a1, matter=bare_matter(world, "乙", "leasing"), kind="asset", asset=asset
    )
    with pytest.raises(ValidationError):
        second.full_clean()
    with pytest.raises(IntegrityError), transaction.atomic():
        second.save()


def test_a_reservation_must_name_what_it_holds(world, holder):
    matter = bare_matter(world)
    with pytest.raises(IntegrityError), transaction.atomic():
        Reservation.objects.create(organization=world.collective_a1, matter=matter, kind="shares", member=holder)
    with pytest.raises(IntegrityError), transaction.atomic():
        Reservation.objects.create(organization=world.collective_a1, matter=matter, kind="asset")


def test_a_resource_is_reserved_for_a_term_and_overlaps_are_refused(world, resource):
    first = bare_matter(world, "前五年", "resource_contracting")
    resource_term_reserve(matter=first, resource=resource, start_date=D(2026, 1, 1), end_date=D(2030, 12, 31))
    overlapping = bare_matter(world, "重叠", "resource_contracting")
    with pytest.raises(ValidationError) as error:
        resource_term_reserve(
            matter=overlapping, resource=resource, start_date=D(2030, 12, 31), end_date=D(2032, 12, 31)
        )
    assert (
        "reserved from 2026-01-01 to 2030-12-31 by the running matter “前五年”"
        in (error.value.message_dict["resource"][0])
    )
    later = resource_term_reserve(
        matter=overlapping, resource=resource, start_date=D(2031, 1, 1), end_date=D(2035, 12, 31)
    )
    assert later.state == ReservationState.HELD


def test_a_contract_in_force_refuses_the_resource_for_an_overlapping_term(world, resource):
    contract_create(
        organization=world.collective_a1,
        kind=ContractKind.CONTRACTING,
        counterparty="李四",
        start_date=D(2026, 1, 1),
        end_date=D(2027, 12, 31),
        amount=Decimal("2000.00"),
        schedule=payment_schedule(D(2026, 1, 1), D(2027, 12, 31), Decimal("1000.00"), "yearly"),
        resource=resource,
    )
    with pytest.raises(ValidationError) as error:
        resource_term_reserve(
            matter=bare_matter(world, transaction_type="resource_contracting"),
            resource=resource,
            start_date=D(2027, 6, 1),
            end_date=D(2029, 5, 31),
        )
    assert "is already contracted" in error.value.message_dict["resource"][0]


# --- through the spine: held from the application, released or consumed at its end ------------------------


def test_an_application_holds_the_shares_and_the_second_for_them_is_refused_at_once(world, holder, receiver):
    matter = apply_transfer(world, holder, receiver, shares=10)
    [reservation] = held(matter)
    assert (reservation.member, reservation.shares) == (holder, 10)
    other = world.members_a1[9]
    before = Matter.objects.count()
    with pytest.raises(ValidationError) as error:
        apply_transfer(world, holder, other, shares=1)
    assert "10 of them already in running transfers" in " ".join(error.value.message_dict["shares"])
    assert Matter.objects.count() == before


def test_withdrawing_releases_the_shares(world, holder, receiver):
    matter = apply_transfer(world, holder, receiver, shares=10)
    services.matter_withdraw(user=world.secretary_a1, matter_id=matter.pk, reason="双方协商取消")
    assert matter.reservations.get().state == ReservationState.RELEASED
    assert held(apply_transfer(world, holder, world.members_a1[9], shares=10))


def test_a_township_rejection_releases_the_asset(world, asset):
    matter = to_step(world, apply_lease(world, leasing_data(asset)), Step.CHECK_BY_TOWNSHIP)
    act(world.officer_a, matter, decision=Decision.REJECT, opinion="租金明显偏低")
    assert refresh(matter).status == MatterStatus.REJECTED
    assert matter.reservations.get().state == ReservationState.RELEASED
    assert held(apply_disposal(world, asset, method="scrapping"))


def test_a_failed_vote_that_stops_the_matter_releases_the_resource(world, resource):
    MeetingRule.objects.filter(rule_version=world.rule_version, body=MeetingBody.TWO_COMMITTEES).update(
        on_failed_vote=OnFailedVote.STOP
    )
    matter = to_step(world, apply_contracting(world, contracting_data(resource)), Step.DELIBERATE)
    hold_meeting(world, matter, passed=False)
    assert refresh(matter).status == MatterStatus.REJECTED
    assert matter.reservations.get().state == ReservationState.RELEASED
    assert held(apply_contracting(world, contracting_data(resource, title="重新发包")))


def test_a_failed_vote_that_returns_the_matter_keeps_the_reservation(world, asset):
    matter = to_step(world, apply_disposal(world, asset, method="scrapping"), Step.DELIBERATE)
    hold_meeting(world, matter, passed=False)
    assert refresh(matter).next_step == Step.APPLY
    assert len(held(matter)) == 1


def test_implementation_consumes_the_reservation(world, resource):
    matter = to_step(world, apply_contracting(world, contracting_data(resource)), Step.IMPLEMENT)
    act(world.cashier_a1, matter, decision=Decision.DONE, opinion="已签订合同")
    assert matter.reservations.get().state == ReservationState.CONSUMED
    # The contract now holds the resource: a new application for the same term is refused by it.
    with pytest.raises(ValidationError) as error:
        apply_contracting(world, contracting_data(resource, title="再次发包"))
    assert "is already contracted" in " ".join(error.value.message_dict["resource"])


def test_a_revision_moves_the_reservation_to_what_the_application_now_commits(world, holder, receiver):
    matter = to_step(world, apply_transfer(world, holder, receiver, shares=10), Step.CHECK_BY_TOWNSHIP)
    act(world.officer_a, matter, decision=Decision.RETURN, opinion="份额有误", return_to=Step.APPLY)
    act(world.secretary_a1, matter, decision=Decision.SUBMIT, opinion="已改", data=transfer_data(holder, receiver))
    [reservation] = held(matter)
    assert reservation.shares == 3
    assert matter.reservations.filter(state=ReservationState.RELEASED, shares=10).exists()
    # The seven it gave back are free for another application.
    assert held(apply_transfer(world, holder, world.members_a1[9], shares=7))


def test_the_refusal_speaks_chinese_in_the_sites_language(world, asset):
    asset_reserve(matter=bare_matter(world, "仓库出租", "leasing"), asset=asset)
    with translation.override("zh-hans"), pytest.raises(ValidationError) as error:
        asset_reserve(matter=bare_matter(world, "仓库处置", "disposal"), asset=asset)
    assert error.value.message_dict["asset"] == [
        f"{asset} 已被在办事项“仓库出租”占用；该事项撤回、被驳回或终止后方可再次申请。"
    ]


# --- matters from before reservations ------------------------------------------------------------------------


def test_the_upgrade_command_reserves_for_running_matters_oldest_first_and_names_the_clash(world, asset, holder):
    disposal = apply_disposal(world, asset, method="scrapping", title="报废")
    older = apply_transfer(world, holder, world.members_a1[11], shares=10, title="先转让")
    # As if applied before reservations existed: nothing held, so a second transfer of the 10 got through.
    for matter in (disposal, older):
        reservations_release(matter=matter)
    newer = apply_transfer(world, holder, world.members_a1[9], shares=10, title="后转让")
    reservations_release(matter=newer)
    out = io.StringIO()
    call_command("reserve_running_matters", stdout=out)
    assert len(held(disposal)) == 1 and held(older)[0].shares == 10
    assert not held(newer)
    assert f"#{newer.pk} 后转让: Never more shares than held" in out.getvalue()
    assert out.getvalue().strip().endswith("2 reserved, 1 refused")
