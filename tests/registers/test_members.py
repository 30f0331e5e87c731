"""The member roster service: confirmed persons join as active members, or nobody does."""

import datetime
from types import SimpleNamespace

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext as _

from registers.members import members_confirm, on_roster_message, repeated_message
from registers.models import Member, MembershipBasis, MemberStatus
from registers.selectors import id_number_index
from tests.factories import MemberFactory, valid_id_number

pytestmark = pytest.mark.django_db


def person(name="张小明", id_number=None, household="A1-00", basis=MembershipBasis.BIRTH, note=""):
    """What members_confirm reads from a MemberCandidate row."""
    return SimpleNamespace(
        name=name,
        id_number=id_number or valid_id_number(datetime.date(2008, 2, 29)),
        household=household,
        basis=basis,
        note=note,
    )


def new_members(organization):
    return Member.objects.filter(organization=organization, source_matter__isnull=True, joined_on__isnull=False)


def test_confirmed_persons_join_the_roster_as_active_members(world):
    born, married = person(), person("刘芳", basis=MembershipBasis.MARRIAGE, household="A1-03")
    members = members_confirm(organization=world.collective_a1, candidates=[born, married], matter=None)
    assert [(m.name, m.id_number, m.household, m.basis) for m in members] == [
        ("张小明", born.id_number, "A1-00", MembershipBasis.BIRTH),
        ("刘芳", married.id_number, "A1-03", MembershipBasis.MARRIAGE),
    ]
    for member in members:
        member.refresh_from_db()
        assert member.status == MemberStatus.ACTIVE
        assert member.joined_on == timezone.localdate()
        assert member.organization == world.collective_a1
        assert member.history.count() == 1


@pytest.mark.parametrize("status", [MemberStatus.ACTIVE, MemberStatus.LEFT, MemberStatus.DECEASED])
def test_an_id_number_on_the_roster_is_refused_and_nobody_joins(world, status):
    existing = MemberFactory(organization=world.collective_a1, status=status)
    with pytest.raises(ValidationError) as error:
        members_confirm(
            organization=world.collective_a1, candidates=[person(), person("王五", existing.id_number)], matter=None
        )
    assert error.value.messages == [on_roster_message(existing)]
    # The person who typed the number learns it is taken, not whose it is nor the whole number.
    assert existing.id_number not in error.value.messages[0] and existing.name not in error.value.messages[0]
    assert existing.id_number[-4:] in error.value.messages[0]
    assert not new_members(world.collective_a1).exists()


def test_the_same_person_twice_is_refused(world):
    twin = person()
    with pytest.raises(ValidationError) as error:
        members_confirm(
            organization=world.collective_a1, candidates=[twin, person("重复", twin.id_number)], matter=None
        )
    assert error.value.messages == [repeated_message(twin.id_number)]
    assert not new_members(world.collective_a1).exists()


def test_a_wrong_check_digit_is_refused_and_nobody_joins(world):
    good = person()
    bad = person("李四", good.id_number[:17] + ("0" if good.id_number[17] != "0" else "1"))
    with pytest.raises(ValidationError) as error:
        members_confirm(organization=world.collective_a1, candidates=[good, bad], matter=None)
    assert _("The ID number's check digit is wrong.") in error.value.messages
    assert not new_members(world.collective_a1).exists()


def test_nobody_to_confirm_is_refused(world):
    with pytest.raises(ValidationError) as error:
        members_confirm(organization=world.collective_a1, candidates=[], matter=None)
    assert error.value.messages == [_("Name at least one person to confirm.")]


def test_a_member_of_another_collective_may_join_this_one(world):
    elsewhere = MemberFactory(organization=world.collective_b1)
    (member,) = members_confirm(
        organization=world.collective_a1, candidates=[person("迁入", elsewhere.id_number)], matter=None
    )
    assert member.organization == world.collective_a1
    assert Member.objects.filter(id_number_index=id_number_index(elsewhere.id_number)).count() == 2
