import pytest
from django.core.exceptions import PermissionDenied

from flows.models import Matter
from organizations.jurisdiction import can_act, can_see, require_act, visible, visible_organizations
from organizations.models import OrganizationKind, Role
from tests.drive import apply_purchase

pytestmark = pytest.mark.django_db


def test_a_post_covers_its_organisation_and_everything_below(world):
    assert can_see(world.officer_a, world.collective_a1)
    assert can_see(world.officer_a, world.collective_a2)
    assert not can_see(world.officer_a, world.collective_b1)
    assert can_see(world.inspector, world.collective_b1)
    assert not can_see(world.inspector_b, world.collective_a1)


def test_nobody_sees_another_places_matters(world):
    matter_a1 = apply_purchase(world)
    matter_b1 = apply_purchase(world, user=world.secretary_b1, organization=world.collective_b1)
    assert list(visible(world.secretary_a1, Matter.objects.all())) == [matter_a1]
    assert list(visible(world.secretary_a2, Matter.objects.all())) == []
    assert list(visible(world.leader_b, Matter.objects.all())) == [matter_b1]
    assert set(visible(world.inspector, Matter.objects.all())) == {matter_a1, matter_b1}
    assert list(visible(world.inspector_b, Matter.objects.all())) == [matter_b1]


def test_inspectors_read_but_never_act(world):
    every_role = [choice.value for choice in Role]
    assert not can_act(world.inspector, world.collective_a1, every_role[:5])
    with pytest.raises(PermissionDenied):
        require_act(world.inspector, world.collective_a1, {Role.TOWNSHIP_LEADER})


def test_acting_needs_the_role_on_a_covering_post(world):
    assert can_act(world.leader_a, world.collective_a1, {Role.TOWNSHIP_LEADER})
    assert not can_act(world.leader_b, world.collective_a1, {Role.TOWNSHIP_LEADER})
    assert not can_act(world.officer_a, world.collective_a1, {Role.TOWNSHIP_LEADER})


def test_one_person_may_hold_several_posts(world):
    from tests.factories import PostFactory

    PostFactory(user=world.secretary_a2, organization=world.village_b1, role=Role.VILLAGE_SECRETARY)
    world.secretary_a2._jurisdiction_posts = None
    collectives = set(visible_organizations(world.secretary_a2, kind=OrganizationKind.COLLECTIVE))
    assert collectives == {world.collective_a2, world.collective_b1}


def test_users_without_posts_see_nothing(world):
    from tests.factories import UserFactory

    nobody = UserFactory()
    assert list(visible(nobody, Matter.objects.all())) == []
